public import ChatStore
public import RPCCore

/// Authenticates every RPC but the standard services: `authorization: Bearer <JWT>` is
/// verified, the caller's user row is created or refreshed, and the caller is attached to
/// the context for the handlers. Without a bearer token, a client certificate the transport
/// verified (TLS with client CAs) stands for a service-role token of the same name.
public struct IdentityInterceptor: ServerInterceptor {
  /// Services that answer without a token: health, reflection and the interop test service.
  static let openServicePrefixes = ["grpc.health.", "grpc.reflection.", "grpc.testing."]

  let verifier: TokenVerifier
  let store: Store
  let knownUsers: KnownUsers

  /// Health, reflection and the interop test service answer without a token.
  public func applies(to method: MethodDescriptor) -> Bool {
    !Self.openServicePrefixes.contains { method.service.hasPrefix($0) }
  }

  public init(verifier: TokenVerifier, store: Store) {
    self.verifier = verifier
    self.store = store
    self.knownUsers = KnownUsers()
  }

  init(verifier: TokenVerifier, store: Store, knownUsers: KnownUsers) {
    self.verifier = verifier
    self.store = store
    self.knownUsers = knownUsers
  }

  public func intercept<Output: Sendable>(
    context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Output
  ) async throws -> Output {
    let caller = try authenticate(context)
    context.values[AuthenticatedUserKey.self]?.set(caller.id)
    try await knownUsers.ensure(caller, in: store.users)
    var context = context
    context.values[CallerKey.self] = caller
    return try await next(context)
  }

  /// The bearer token when there is one (a bad token is never overridden by a certificate),
  /// else the verified client certificate's principal.
  func authenticate(_ context: ServerContext) throws -> Caller {
    if context.requestMetadata.firstString(forKey: "authorization") == nil,
      let name = context.peerIdentity?.name
    {
      return Caller(id: name, name: name, role: .service)
    }
    let token = try Self.bearerToken(context.requestMetadata)
    return try verifier.verify(token)
  }

  static func bearerToken(_ metadata: Metadata) throws(AuthenticationError) -> String {
    guard let value = metadata.firstString(forKey: "authorization") else {
      throw AuthenticationError("missing authorization: Bearer <token>")
    }
    // Proxies differ on which of several copies they check or forward; refusing them all
    // leaves no copy that another hop would read differently.
    guard metadata.values(forKey: "authorization").count == 1 else {
      throw AuthenticationError("more than one authorization header")
    }
    let parts = value.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
      throw AuthenticationError("the authorization header is not a Bearer token")
    }
    return String(parts[1]).trimmingCharacters(in: .whitespaces)
  }
}
