public import Foundation
import JWTKit

/// Mints HS256 access tokens: `chatd token` and `chatctl token` for development, tests and
/// benchmarks.
public struct TokenMinter: Sendable {
  /// HS256 keys shorter than the hash (32 bytes) are refused, as RFC 7518 asks.
  public static let minimumSecretLength = 32

  let secret: String
  let issuer: String?
  let audience: String?

  public init(secret: String, issuer: String? = nil, audience: String? = nil) {
    self.secret = secret
    self.issuer = issuer
    self.audience = audience
  }

  public func mint(
    user: String, name: String, picture: String = "", role: String = "user",
    lifetime: Duration = .seconds(86_400), now: Date = Date()
  ) async throws -> String {
    guard secret.utf8.count >= Self.minimumSecretLength else {
      throw TokenMintingError("the JWT secret must be at least \(Self.minimumSecretLength) bytes")
    }
    // Whole seconds: NumericDate may be fractional, but some libraries expect integers.
    let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
    let keys = JWTKeyCollection()
    await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    var claims = TokenClaims(
      sub: user,
      exp: ExpirationClaim(
        value: now.addingTimeInterval(TimeInterval(lifetime.components.seconds))),
      iat: IssuedAtClaim(value: now), iss: issuer, name: name, role: role)
    if let audience { claims.aud = AudienceClaim(value: [audience]) }
    if !picture.isEmpty { claims.picture = picture }
    return try await keys.sign(claims)
  }
}

/// A token that cannot be minted (a secret too short for HS256).
public struct TokenMintingError: Error, Sendable, CustomStringConvertible {
  public let description: String

  init(_ description: String) { self.description = description }
}
