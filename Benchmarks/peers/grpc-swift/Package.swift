// swift-tools-version: 6.2
import PackageDescription

// The grpc-swift-2 peer of scripts/bench (issue 9): the bench.v1 service on GRPCCore with the
// NIO HTTP/2 transport, as a grpc-swift user would write it. A package of its own so that its
// dependencies never enter chatd's build. Versions pinned exactly so every run compares the
// same peer.
// chatd's executables that scripts/bench runs (`build` passes their names): built in the same
// build as the peer (a dependency's executables are built, not linked), so that chatd's modules
// compile beside the peer's long chains of SwiftNIO, BoringSSL and grpc-swift modules instead
// of after them (docs/benchmarks.md, "session 14"). None when the peer is built alone.
let chatdExecutables: [Target.Dependency] =
  (Context.environment["CHATD_BENCH_PRODUCTS"] ?? "").split(separator: " ").map {
    .product(name: String($0), package: "chatd")
  }

let package = Package(
  name: "grpc-swift-peer",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "grpc-swift-peer", targets: ["GRPCSwiftPeer"])
  ],
  dependencies: [
    .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    // Not used by the peer's code: scripts/bench builds chatd and its load generators here
    // too, so SwiftNIO and the other packages both use compile once (docs/benchmarks.md).
    .package(name: "chatd", path: "../../.."),
  ],
  targets: [
    .executableTarget(
      name: "GRPCSwiftPeer",
      dependencies: [
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ] + chatdExecutables,
      swiftSettings: [.swiftLanguageMode(.v6)]
    )
  ]
)
