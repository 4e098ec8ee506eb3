public import Foundation
public import JWTKit

/// The claims chatd reads from an access token. The standard time claims are checked by
/// chatd's `TokenVerifier` (with leeway and the configured issuer and audience), not here.
public struct TokenClaims: JWTPayload {
  public var sub: String?
  public var exp: ExpirationClaim?
  public var nbf: NotBeforeClaim?
  public var iat: IssuedAtClaim?
  public var iss: String?
  public var aud: AudienceClaim?
  public var name: String?
  public var picture: String?
  public var role: String?

  public init(
    sub: String? = nil, exp: ExpirationClaim? = nil, nbf: NotBeforeClaim? = nil,
    iat: IssuedAtClaim? = nil, iss: String? = nil, aud: AudienceClaim? = nil,
    name: String? = nil, picture: String? = nil, role: String? = nil
  ) {
    self.sub = sub
    self.exp = exp
    self.nbf = nbf
    self.iat = iat
    self.iss = iss
    self.aud = aud
    self.name = name
    self.picture = picture
    self.role = role
  }

  public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
