import RPCCore
import Synchronization
import Testing

/// A message that is its own bytes, so routing is tested without a protobuf runtime.
struct Bytes: WireMessage, Equatable {
  var value: [UInt8]
  init(_ value: [UInt8]) { self.value = value }
  init(wireBytes: [UInt8]) throws {
    struct Undecodable: Error {}
    if wireBytes == [0xFF] { throw Undecodable() }
    value = wireBytes
  }
  func wireBytes() -> [UInt8] { value }
}

final class NoCall: ServerCallHandle {
  func setInitialMetadata(_ metadata: Metadata) {}
  func addTrailingMetadata(_ metadata: Metadata) {}
  func setResponseCompression(_ enabled: Bool) {}
  var lastRequestMessageWasCompressed: Bool { false }
}

private final class Log: Sendable {
  let entries = Mutex<[String]>([])
  func append(_ entry: String) { entries.withLock { $0.append(entry) } }
  var all: [String] { entries.withLock { $0 } }
}

private enum CallerKey: ContextKey { typealias Value = String }

/// Records the order it ran in and attaches a value to the context.
private struct Recording: ServerInterceptor {
  let name: String
  let log: Log

  func intercept<Output: Sendable>(
    context: ServerContext, next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    log.append("enter \(name)")
    defer { log.append("leave \(name)") }
    var context = context
    context.values[CallerKey.self] = (context.values[CallerKey.self] ?? "") + name
    return try await next(context)
  }
}

private struct Rejecting: ServerInterceptor {
  func intercept<Output: Sendable>(
    context: ServerContext, next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    throw RPCError(code: .unauthenticated, message: "no token")
  }
}

@Suite struct RPCRouterTests {
  let echo = MethodDescriptor(service: "test.Echo", method: "Get", kind: .unary)

  func context(_ method: MethodDescriptor) -> ServerContext {
    ServerContext(
      method: method, requestMetadata: [:], deadline: nil, peer: "test", call: NoCall())
  }

  func run(_ router: RPCRouter, _ bytes: [UInt8]) async throws -> [UInt8] {
    guard case .unary(let handle) = router.method(forPath: "/test.Echo/Get")?.handler else {
      Issue.record("no unary route")
      return []
    }
    return try await handle(bytes, context(echo))
  }

  @Test func routesByPathAndListsServices() async throws {
    var router = RPCRouter()
    router.registerUnary(echo) { (request: Bytes, _) in Bytes(request.value.reversed()) }
    #expect(router.serviceNames == ["test.Echo"])
    #expect(router.hasService("test.Echo"))
    #expect(!router.hasService("test.Other"))
    #expect(router.method(forPath: "/test.Echo/Put") == nil)
    #expect(try await run(router, [1, 2, 3]) == [3, 2, 1])
  }

  @Test func undecodableRequestIsInvalidArgument() async throws {
    var router = RPCRouter()
    router.registerUnary(echo) { (request: Bytes, _) in request }
    await #expect(throws: RPCError.self) { try await run(router, [0xFF]) }
    do {
      _ = try await run(router, [0xFF])
    } catch let error as RPCError {
      #expect(error.code == .invalidArgument)
    }
  }

  @Test func interceptorsRunOutermostFirstAndPassContext() async throws {
    let log = Log()
    var router = RPCRouter()
    router.registerUnary(echo) { (_: Bytes, context) in
      Bytes(Array((context.values[CallerKey.self] ?? "").utf8))
    }
    let intercepted = router.intercepted(by: [
      Recording(name: "a", log: log), Recording(name: "b", log: log),
    ])
    #expect(try await run(intercepted, []) == Array("ab".utf8))
    #expect(log.all == ["enter a", "enter b", "leave b", "leave a"])
  }

  @Test func interceptorCanEndTheCall() async throws {
    var router = RPCRouter()
    router.registerUnary(echo) { (request: Bytes, _) in request }
    let intercepted = router.intercepted(by: [Rejecting()])
    await #expect(throws: RPCError(code: .unauthenticated, message: "no token")) {
      try await run(intercepted, [1])
    }
  }

  @Test func unknownErrorsBecomeGenericInternal() {
    struct Secret: Error {}
    #expect(RPCError.from(Secret()) == RPCError(code: .internalError, message: "internal error"))
    #expect(RPCError.from(CancellationError()).code == .cancelled)
    #expect(Status.Code.resourceExhausted.description == "RESOURCE_EXHAUSTED")
    #expect(Status.Code(rawValue: 42).description == "CODE_42")
  }
}

/// An interceptor that declines some services runs around none of their methods.
private struct OnlyChat: ServerInterceptor {
  func applies(to method: MethodDescriptor) -> Bool { method.service != "test.Echo" }
  func intercept<Output: Sendable>(
    context: ServerContext, next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    throw RPCError(code: .permissionDenied, message: "should not run")
  }
}

@Suite struct InterceptorSelectionTests {
  @Test func methodsAnInterceptorDeclinesRunWithoutIt() async throws {
    let echo = MethodDescriptor(service: "test.Echo", method: "Get", kind: .unary)
    var router = RPCRouter()
    router.registerUnary(echo) { (request: Bytes, _) in request }
    let intercepted = router.intercepted(by: [OnlyChat()])
    guard case .unary(let handle) = intercepted.method(forPath: echo.path)?.handler else {
      Issue.record("no route")
      return
    }
    let context = ServerContext(
      method: echo, requestMetadata: [:], deadline: nil, peer: "test", call: NoCall())
    #expect(try await handle([7], context) == [7])
  }
}
