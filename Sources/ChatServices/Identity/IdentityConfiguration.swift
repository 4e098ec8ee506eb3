/// How chatd verifies access tokens (`--jwt-*` flags).
public struct IdentityConfiguration: Sendable {
  /// HS256 secrets (`--jwt-secret`, or the development secret of the data dir).
  public var hmacSecrets: [String] = []
  /// PEM public keys (`--jwt-public-key FILE`): RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA).
  public var publicKeyPEMs: [String] = []
  /// A JWKS document (`--jwks-file`); each key needs a `kid`.
  public var jwksJSON: String?
  /// The `iss` every token must carry, when set (`--jwt-issuer`).
  public var issuer: String?
  /// A value the token's `aud` must contain, when set (`--jwt-audience`).
  public var audience: String?
  /// Clock skew tolerated on `exp` and `nbf`.
  public var leeway: Duration = .seconds(30)

  public init() {}

  /// Whether any verification key is configured (otherwise chatd uses a development secret).
  public var hasKeys: Bool { !hmacSecrets.isEmpty || !publicKeyPEMs.isEmpty || jwksJSON != nil }
}
