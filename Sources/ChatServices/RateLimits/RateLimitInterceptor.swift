public import RPCCore

/// Answers RESOURCE_EXHAUSTED (with `google.rpc.RetryInfo`) to callers over their rate. Runs
/// after the identity interceptor: calls without a caller (health, reflection) pass.
public struct RateLimitInterceptor: ServerInterceptor {
  let limiter: RateLimiter

  public init(configuration: RateLimitConfiguration) {
    limiter = RateLimiter(configuration: configuration)
  }

  /// Only authenticated services are limited, per caller.
  public func applies(to method: MethodDescriptor) -> Bool {
    !IdentityInterceptor.openServicePrefixes.contains { method.service.hasPrefix($0) }
  }

  public func intercept<Output: Sendable>(
    context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    guard let caller = context.caller else { return try await next(context) }
    let rpcClass = Self.rpcClass(of: context.method)
    if let wait = limiter.take(user: caller.id, rpcClass: rpcClass) {
      throw RPCError.withDetails(
        code: .resourceExhausted,
        message: "too many \(rpcClass.rawValue) requests; retry later",
        detail: .retryInfo(wait))
    }
    return try await next(context)
  }

  static func rpcClass(of method: MethodDescriptor) -> RateLimitConfiguration.RPCClass {
    switch (method.service, method.method) {
    case ("chat.v1.ChatService", "SendMessage"): .send
    case ("chat.v1.ChatService", "SendTyping"): .typing
    case ("social.v1.FollowService", "Follow"), ("social.v1.FollowService", "Unfollow"): .follow
    default: .other
    }
  }
}
