import RPCCore
import Synchronization

/// A message that is its own bytes: the transport is tested without a protobuf runtime.
struct Raw: WireMessage, Equatable {
  var bytes: [UInt8]
  init(_ bytes: [UInt8]) { self.bytes = bytes }
  init(_ text: String) { self.bytes = Array(text.utf8) }
  init(wireBytes: [UInt8]) { bytes = wireBytes }
  func wireBytes() -> [UInt8] { bytes }
  var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// What the echo handlers observed, for tests to assert on.
final class EchoLog: Sendable {
  let sleepingHandlers = Atomic<Int>(0)
  let cancelledHandlers = Atomic<Int>(0)
  let completedHandlers = Atomic<Int>(0)
}

enum Echo {
  static let get = MethodDescriptor(service: "test.Echo", method: "Get", kind: .unary)
  static let expand = MethodDescriptor(
    service: "test.Echo", method: "Expand", kind: .serverStreaming)
  static let collect = MethodDescriptor(
    service: "test.Echo", method: "Collect", kind: .clientStreaming)
  static let chat = MethodDescriptor(service: "test.Echo", method: "Chat", kind: .bidiStreaming)
  /// Answers the name of the verified client certificate (empty without one).
  static let whoAmI = MethodDescriptor(service: "test.Echo", method: "WhoAmI", kind: .unary)
}

/// Echo handlers: "fail" fails, "sleep" sleeps until cancelled, metadata is echoed.
struct EchoService: RegistrableRPCService {
  let log: EchoLog

  func registerMethods(with router: inout RPCRouter) {
    let log = log
    router.registerUnary(Echo.get) { (request: Raw, context) async throws -> Raw in
      if let echo = context.requestMetadata.firstString(forKey: "x-echo") {
        context.setInitialMetadata(["x-echo-initial": .string(echo)])
        context.addTrailingMetadata(["x-echo-trailing-bin": .binary([0, 1, 2])])
      }
      switch request.text {
      case "fail":
        throw RPCError(
          code: .notFound, message: "no such thing: ✓ 100%",
          metadata: ["x-detail-bin": .binary([9, 9])])
      case "crash":
        struct Secret: Error {}
        throw Secret()
      case "sleep":
        log.sleepingHandlers.add(1, ordering: .relaxed)
        do {
          try await Task.sleep(for: .seconds(30))
        } catch {
          log.cancelledHandlers.add(1, ordering: .relaxed)
          throw error
        }
        return request
      default:
        log.completedHandlers.add(1, ordering: .relaxed)
        return request
      }
    }
    router.registerUnary(Echo.whoAmI) { (_: Raw, context) async throws -> Raw in
      Raw(context.peerIdentity?.name ?? "")
    }
    router.registerServerStreaming(Echo.expand) { (request: Raw, writer: RPCWriter<Raw>, _) in
      // Request: [count, size]: `count` messages of `size` KiB each, the index in every byte.
      let count = Int(request.bytes[0])
      let size = Int(request.bytes[1]) * 1024
      for index in 0..<count {
        try await writer.write(Raw([UInt8](repeating: UInt8(index), count: size)))
      }
    }
    router.registerClientStreaming(Echo.collect) { (requests: RPCAsyncSequence<Raw>, _) in
      var all: [UInt8] = []
      for try await message in requests { all += message.bytes }
      return Raw(all)
    }
    router.registerBidiStreaming(Echo.chat) {
      (requests: RPCAsyncSequence<Raw>, writer: RPCWriter<Raw>, _) in
      for try await message in requests {
        try await writer.write(Raw(message.bytes.reversed()))
      }
    }
  }
}
