public import Foundation

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
    let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
    var claims = TokenClaims(
      sub: user, exp: now.addingTimeInterval(TimeInterval(lifetime.components.seconds)),
      iat: now, iss: issuer, name: name, role: role)
    if let audience { claims.aud = [audience] }
    if !picture.isEmpty { claims.picture = picture }
    return Self.sign(claims, secret: Array(secret.utf8))
  }

  /// `claims` as an HS256 token under `secret`.
  public static func sign(_ claims: TokenClaims, secret: [UInt8]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding these claims cannot fail: strings, arrays of strings and numbers only.
    let payload = try! encoder.encode(claims)
    return CompactJWS.encode(header: Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8), payload: payload) {
      HMACSHA256.authenticationCode(key: secret, data: $0)
    }
  }
}

/// A token that cannot be minted (a secret too short for HS256).
public struct TokenMintingError: Error, Sendable, CustomStringConvertible {
  public let description: String

  init(_ description: String) { self.description = description }
}
