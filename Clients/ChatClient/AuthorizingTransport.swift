public import RPCCore

/// A client transport that adds `authorization: Bearer <token>` and a default deadline to
/// every call of the generated stubs.
public struct AuthorizingTransport: RPCClientTransport {
  let base: any RPCClientTransport
  let tokens: any TokenProvider
  /// Applied to calls that set no timeout of their own; nil for none.
  let defaultTimeout: Duration?

  public init(base: any RPCClientTransport, tokens: any TokenProvider, defaultTimeout: Duration?) {
    self.base = base
    self.tokens = tokens
    self.defaultTimeout = defaultTimeout
  }

  public func call<Result: Sendable>(
    _ method: MethodDescriptor, options: CallOptions,
    requests: @escaping @Sendable (any MessageSink) async throws -> Void,
    responses: @escaping @Sendable (any MessageSource) async throws -> Result
  ) async throws -> Result {
    var options = options
    options.metadata.addString("Bearer \(try await tokens.token())", forKey: "authorization")
    if options.timeout == nil { options.timeout = defaultTimeout }
    return try await base.call(method, options: options, requests: requests, responses: responses)
  }
}
