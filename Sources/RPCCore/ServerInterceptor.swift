/// Code that runs around every handler: authentication, rate limits, access logs, metrics.
///
/// An interceptor may change the context it passes on (e.g. attach the caller in
/// `values`), end the call by throwing, or observe how `next` ends.
public protocol ServerInterceptor: Sendable {
  func intercept<Output: Sendable>(
    context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output

  /// Whether the interceptor runs around `method` at all. Decided once, when routes are
  /// built: a method no interceptor applies to runs with no interceptor overhead.
  func applies(to method: MethodDescriptor) -> Bool
}

extension ServerInterceptor {
  public func applies(to method: MethodDescriptor) -> Bool { true }
}

/// Interceptors composed once, outermost first.
struct InterceptorChain: Sendable {
  let interceptors: [any ServerInterceptor]

  func run<Output: Sendable>(
    _ context: ServerContext,
    _ handler: @escaping @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    try await run(from: 0, context, handler)
  }

  private func run<Output: Sendable>(
    from index: Int, _ context: ServerContext,
    _ handler: @escaping @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    guard index < interceptors.count else { return try await handler(context) }
    return try await interceptors[index].intercept(context: context) { context in
      try await self.run(from: index + 1, context, handler)
    }
  }
}
