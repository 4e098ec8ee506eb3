public import RPCCore

/// The authenticated user behind an RPC, from the claims of their access token.
public struct Caller: Sendable, Hashable {
  /// What the caller may do beyond their own rooms and profile.
  public enum Role: String, Sendable, Hashable {
    /// An ordinary user (the default when the token has no `role`).
    case user
    /// An internal service: reads any room.
    case service
    /// An administrator: deletes any user, moderates messages.
    case admin
  }

  /// The `sub` claim: the user's id.
  public var id: String
  /// The `name` claim (the id when absent).
  public var name: String
  /// The `picture` claim (empty when absent).
  public var picture: String
  public var role: Role

  public init(id: String, name: String, picture: String = "", role: Role = .user) {
    self.id = id
    self.name = name
    self.picture = picture
    self.role = role
  }
}

/// Where the identity interceptor leaves the caller for the handlers.
enum CallerKey: ContextKey {
  typealias Value = Caller
}

extension ServerContext {
  /// The caller the identity interceptor authenticated, nil on unauthenticated services.
  public var caller: Caller? { values[CallerKey.self] }

  /// The caller, or UNAUTHENTICATED when the RPC ran without the identity interceptor.
  func authenticatedCaller() throws -> Caller {
    guard let caller else { throw AuthenticationError("missing credentials").rpcError }
    return caller
  }
}
