import Foundation
import JWTKit

/// The claims chatd reads from an access token. The standard time claims are checked by
/// `TokenVerifier` (with leeway and the configured issuer and audience), not here.
struct TokenClaims: JWTPayload {
  var sub: String?
  var exp: ExpirationClaim?
  var nbf: NotBeforeClaim?
  var iat: IssuedAtClaim?
  var iss: String?
  var aud: AudienceClaim?
  var name: String?
  var picture: String?
  var role: String?

  func verify(using algorithm: some JWTAlgorithm) async throws {}
}
