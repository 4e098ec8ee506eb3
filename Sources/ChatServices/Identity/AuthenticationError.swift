public import RPCCore

/// Why a token was refused. The reason names the failed check only: never key material,
/// never the token itself.
public struct AuthenticationError: Error, Sendable, Hashable, RPCErrorConvertible {
  public var reason: String

  public init(_ reason: String) { self.reason = reason }

  public var rpcError: RPCError {
    RPCError(code: .unauthenticated, message: "unauthenticated: \(reason)")
  }
}
