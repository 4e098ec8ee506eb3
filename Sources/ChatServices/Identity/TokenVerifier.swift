import AccessTokens
public import Foundation

/// Verifies access tokens: the signature with a key whose allow-list holds the token's
/// `alg`, then `exp` (required), `nbf`, `iss` and `aud` with a little leeway, then the claims
/// chatd needs (`sub`, `role`).
public struct TokenVerifier: Sendable {
  let keys: [VerificationKey]
  let issuer: String?
  let audience: String?
  let leeway: TimeInterval
  let verified = VerifiedTokens()

  /// Loads every configured key; throws `IdentitySetupError` naming the unusable one.
  public init(_ configuration: IdentityConfiguration) throws {
    var keys: [VerificationKey] = []
    for secret in configuration.hmacSecrets {
      guard secret.utf8.count >= TokenMinter.minimumSecretLength else {
        throw IdentitySetupError(
          "the JWT secret must be at least \(TokenMinter.minimumSecretLength) bytes")
      }
      keys.append(.hmac(secret: secret))
    }
    for pem in configuration.publicKeyPEMs { keys.append(try .publicKey(pem: pem)) }
    if let json = configuration.jwksJSON { keys += try JWKS.verificationKeys(json: json) }
    guard !keys.isEmpty else { throw IdentitySetupError("no key to verify tokens with") }
    self.keys = keys
    issuer = configuration.issuer
    audience = configuration.audience
    leeway = TimeInterval(configuration.leeway.components.seconds)
  }

  /// The caller a token names, or `AuthenticationError` saying which check failed.
  public func verify(_ token: String, now: Date = Date()) throws(AuthenticationError) -> Caller {
    if let caller = try cachedCaller(token, now: now) { return caller }
    guard let jws = CompactJWS(token),
      let header = try? JSONDecoder().decode(Header.self, from: jws.header)
    else { throw AuthenticationError("malformed token") }
    // RFC 7515 4.1.11: extensions a recipient must understand, and chatd understands none.
    guard header.crit == nil else {
      throw AuthenticationError("the token's critical header extensions are not supported")
    }
    let candidates = keys.filter { key in
      key.algorithm == header.alg && (key.kid == nil || key.kid == header.kid)
    }
    guard !candidates.isEmpty else {
      throw AuthenticationError("the token's algorithm or key id is not accepted")
    }
    guard candidates.contains(where: { $0.verifies(jws.signingInput, signature: jws.signature) })
    else { throw AuthenticationError("invalid signature") }
    guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: jws.payload) else {
      throw AuthenticationError("the token's claims are malformed")
    }
    let caller = try check(claims, now: now)
    if let exp = claims.exp {
      self.verified.insert(
        .init(caller: caller, expires: exp, notBefore: claims.nbf), for: token, now: now)
    }
    return caller
  }

  /// The caller of a token verified before, with its time claims checked again; nil when the
  /// token is not known (then `verify` checks it in full).
  func cachedCaller(_ token: String, now: Date = Date()) throws(AuthenticationError)
    -> Caller?
  {
    guard let entry = verified.entry(for: token) else { return nil }
    try checkTimes(expires: entry.expires, notBefore: entry.notBefore, now: now)
    return entry.caller
  }

  private func checkTimes(expires: Date, notBefore: Date?, now: Date) throws(AuthenticationError) {
    guard now.timeIntervalSince(expires) < leeway else {
      throw AuthenticationError("the token has expired")
    }
    if let notBefore, notBefore.timeIntervalSince(now) > leeway {
      throw AuthenticationError("the token is not valid yet")
    }
  }

  private func check(_ claims: TokenClaims, now: Date) throws(AuthenticationError) -> Caller {
    guard let exp = claims.exp else { throw AuthenticationError("the token has no exp claim") }
    try checkTimes(expires: exp, notBefore: claims.nbf, now: now)
    if let issuer, claims.iss != issuer { throw AuthenticationError("wrong issuer") }
    if let audience, !(claims.aud?.contains(audience) ?? false) {
      throw AuthenticationError("wrong audience")
    }
    guard let sub = claims.sub, Validation.isWellFormedUserID(sub) else {
      throw AuthenticationError("the sub claim is missing or malformed")
    }
    guard let role = Caller.Role(rawValue: claims.role ?? "user") else {
      throw AuthenticationError("unknown role")
    }
    let name = claims.name.map { String($0.prefix(64)) } ?? ""
    return Caller(
      id: sub, name: name.isEmpty ? sub : name,
      picture: String((claims.picture ?? "").prefix(2048)), role: role)
  }

  private struct Header: Decodable {
    var alg: String
    var kid: String?
    var crit: [String]?
  }
}
