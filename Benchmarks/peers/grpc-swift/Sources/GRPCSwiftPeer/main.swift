// The grpc-swift-2 peer of scripts/bench: `grpc-swift-peer PORT` serves bench.v1.Chat over
// plaintext HTTP/2 (h2c) on 127.0.0.1:PORT until the process is killed. Transport settings are
// the library's defaults, as a user would ship them.
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let arguments = CommandLine.arguments
guard arguments.count == 2, let port = Int(arguments[1]), (1...65535).contains(port) else {
  // stderr is a C global: Swift 6 refuses it; write(2) on its descriptor needs no state.
  let usage = Array("usage: grpc-swift-peer PORT\n".utf8)
  _ = usage.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
  exit(64)
}

let server = GRPCServer(
  transport: .http2NIOPosix(
    address: .ipv4(host: "127.0.0.1", port: port),
    transportSecurity: .plaintext
  ),
  services: [ChatService()]
)
try await server.serve()
