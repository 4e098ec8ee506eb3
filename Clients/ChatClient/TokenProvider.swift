/// Where a client's access tokens come from: asked before every call, so a provider can
/// refresh an expiring token without the caller noticing.
public protocol TokenProvider: Sendable {
  func token() async throws -> String
}

/// A token that never changes (development tokens, tests, `chatctl --token`).
public struct StaticToken: TokenProvider {
  let value: String

  public init(_ value: String) { self.value = value }

  public func token() async throws -> String { value }
}
