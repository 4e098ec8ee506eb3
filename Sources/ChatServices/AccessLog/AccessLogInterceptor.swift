public import Logging
public import RPCCore
import Synchronization

/// One log line per RPC: method, status code, duration, user (when authenticated) and peer.
/// The outermost interceptor, so refused calls are logged too.
public struct AccessLogInterceptor: ServerInterceptor {
  let logger: Logger

  public init(logger: Logger) { self.logger = logger }

  /// Health probes arrive every few seconds from load balancers: not worth a line each.
  public func applies(to method: MethodDescriptor) -> Bool {
    !method.service.hasPrefix("grpc.health.")
  }

  public func intercept<Output: Sendable>(
    context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    let clock = ContinuousClock()
    let start = clock.now
    let user = AuthenticatedUser()
    var context = context
    context.values[AuthenticatedUserKey.self] = user
    do {
      let output = try await next(context)
      log(context, code: .ok, elapsed: clock.now - start, user: user)
      return output
    } catch {
      log(context, code: RPCError.from(error).code, elapsed: clock.now - start, user: user)
      throw error
    }
  }

  private func log(
    _ context: ServerContext, code: Status.Code, elapsed: Duration, user: AuthenticatedUser
  ) {
    let (seconds, attoseconds) = elapsed.components
    let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    logger.info(
      "rpc",
      metadata: [
        "method": "\(context.method.path)",
        "code": "\(code)",
        "duration_ms": "\((milliseconds * 100).rounded() / 100)",
        "user": "\(user.id ?? "-")",
        "peer": "\(context.peer)",
      ])
  }
}

/// Where the identity interceptor, which runs inside the access log, leaves the caller's id
/// for the log line.
final class AuthenticatedUser: Sendable {
  private let value = Mutex<String?>(nil)

  var id: String? { value.withLock { $0 } }

  func set(_ id: String) { value.withLock { $0 = id } }
}

enum AuthenticatedUserKey: ContextKey {
  typealias Value = AuthenticatedUser
}
