import AccessTokens
import CryptoExtras
import Foundation
import JWTKit
import Testing

@testable import ChatServices

/// Claims as any identity provider would put them in a token.
struct ProviderClaims: JWTPayload {
  var sub: String?
  var exp: ExpirationClaim?
  var nbf: NotBeforeClaim?
  var iss: String?
  var aud: AudienceClaim?
  var name: String?
  var role: String?

  func verify(using algorithm: some JWTAlgorithm) async throws {}
}

func claims(
  sub: String? = "alice", expiresIn: TimeInterval? = 600, nbf: TimeInterval? = nil,
  iss: String? = nil, aud: String? = nil, role: String? = nil
) -> ProviderClaims {
  ProviderClaims(
    sub: sub, exp: expiresIn.map { ExpirationClaim(value: Date().addingTimeInterval($0)) },
    nbf: nbf.map { NotBeforeClaim(value: Date().addingTimeInterval($0)) }, iss: iss,
    aud: aud.map { AudienceClaim(value: [$0]) }, name: "Alice", role: role)
}

let secret = "unit-test-secret-0123456789abcdef"

func hmacToken(_ payload: ProviderClaims, secret: String = secret) async throws -> String {
  let keys = JWTKeyCollection()
  await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
  return try await keys.sign(payload)
}

func verifier(_ configure: (inout IdentityConfiguration) -> Void) async throws -> TokenVerifier {
  var configuration = IdentityConfiguration()
  configure(&configuration)
  return try await TokenVerifier(configuration)
}

func reason(_ verifier: TokenVerifier, _ token: String) async -> String? {
  do {
    _ = try await verifier.verify(token)
    return nil
  } catch {
    return error.reason
  }
}

@Suite struct TokenVerifierTests {
  @Test func hs256TokenGivesTheCaller() async throws {
    let verifier = try await verifier { $0.hmacSecrets = [secret] }
    let caller = try await verifier.verify(try await hmacToken(claims(role: "admin")))
    #expect(caller == Caller(id: "alice", name: "Alice", role: .admin))
  }

  @Test func timeClaimsAreCheckedWithLeeway() async throws {
    let verifier = try await verifier { $0.hmacSecrets = [secret] }
    #expect(await reason(verifier, try await hmacToken(claims(expiresIn: -120))) != nil)
    #expect(await reason(verifier, try await hmacToken(claims(expiresIn: -5))) == nil)
    #expect(
      await reason(verifier, try await hmacToken(claims(expiresIn: nil)))?.contains("exp") == true)
    #expect(
      await reason(verifier, try await hmacToken(claims(nbf: 300)))?.contains("not valid yet")
        == true)
  }

  @Test func issuerAndAudienceWhenConfigured() async throws {
    let verifier = try await verifier {
      $0.hmacSecrets = [secret]
      $0.issuer = "https://id.example"
      $0.audience = "chatd"
    }
    let good = try await hmacToken(claims(iss: "https://id.example", aud: "chatd"))
    #expect(await reason(verifier, good) == nil)
    let wrongIssuer = try await hmacToken(claims(iss: "https://evil.example", aud: "chatd"))
    #expect(await reason(verifier, wrongIssuer) == "wrong issuer")
    let noAudience = try await hmacToken(claims(iss: "https://id.example"))
    #expect(await reason(verifier, noAudience) == "wrong audience")
  }

  @Test func es256AndEdDSAPublicKeys() async throws {
    let ecKey = ES256PrivateKey()
    let edKey = try EdDSA.PrivateKey()
    let verifier = try await verifier {
      $0.publicKeyPEMs = [ecKey.publicKey.pemRepresentation, edKey.publicKey.pemRepresentation]
    }
    let signers = JWTKeyCollection()
    await signers.add(ecdsa: ecKey, kid: "ec").add(eddsa: edKey, kid: "ed")
    for kid in ["ec", "ed"] {
      let token = try await signers.sign(claims(), kid: JWKIdentifier(string: kid))
      #expect(try await verifier.verify(token).id == "alice")
    }
    // An HS256 token is refused before any signature check: no key allows HS256.
    let hs = try await hmacToken(claims())
    #expect(await reason(verifier, hs)?.contains("algorithm") == true)
  }

  @Test func rsaKeyCannotBeUsedAsAnHMACSecret() async throws {
    // A fixed test key: generating one in a debug build costs seconds of CPU.
    let rsa = try Insecure.RSA.PrivateKey(pem: testRSAPrivateKeyPEM)
    let publicPEM = try Insecure.RSA.PublicKey(
      backing: _RSA.Signing.PrivateKey(pemRepresentation: rsa.pemRepresentation).publicKey
    ).pemRepresentation
    let verifier = try await verifier { $0.publicKeyPEMs = [publicPEM] }
    let signers = JWTKeyCollection()
    await signers.add(rsa: rsa, digestAlgorithm: .sha256)
    #expect(try await verifier.verify(try await signers.sign(claims())).id == "alice")
    // The classic confusion: HS256 "signed" with the public key's PEM text.
    let forged = try await hmacToken(claims(role: "admin"), secret: publicPEM)
    #expect(await reason(verifier, forged)?.contains("algorithm") == true)
  }

  @Test func unsignedAndTamperedTokensFail() async throws {
    let verifier = try await verifier { $0.hmacSecrets = [secret] }
    let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
    let body = Data(#"{"sub":"alice","exp":9999999999}"#.utf8).base64EncodedString()
    #expect(await reason(verifier, "\(header).\(body).")?.contains("algorithm") == true)
    #expect(await reason(verifier, "garbage") == "malformed token")
    let wrong = try await hmacToken(claims(), secret: "another-secret-0123456789abcdef-0123456789")
    #expect(await reason(verifier, wrong) == "invalid signature")
  }

  @Test func aVerifiedTokenIsRememberedButItsTimesAreCheckedOnEveryUse() async throws {
    let verifier = try await verifier { $0.hmacSecrets = [secret] }
    let token = try await hmacToken(claims(expiresIn: 600))
    #expect(try verifier.cachedCaller(token) == nil)
    let caller = try await verifier.verify(token)
    #expect(try verifier.cachedCaller(token) == caller)
    // Past exp (and the 30 s leeway), the remembered token is refused like any other.
    let later = Date().addingTimeInterval(600 + 60)
    #expect(throws: AuthenticationError.self) { try verifier.cachedCaller(token, now: later) }
    await #expect(throws: AuthenticationError.self) { try await verifier.verify(token, now: later) }
    // A token that differs in one character is not the remembered one.
    var tampered = Array(token)
    tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
    #expect(try verifier.cachedCaller(String(tampered)) == nil)
    #expect(await reason(verifier, String(tampered)) != nil)
  }

  @Test func rememberedTokensAreBounded() {
    let tokens = VerifiedTokens(capacity: 3)
    let now = Date()
    let caller = Caller(id: "alice", name: "Alice", role: .user)
    tokens.insert(.init(caller: caller, expires: now - 1), for: "expired", now: now)
    for name in ["a", "b"] {
      tokens.insert(.init(caller: caller, expires: now + 60), for: name, now: now)
    }
    tokens.insert(.init(caller: caller, expires: now + 60), for: "c", now: now)
    #expect(tokens.entry(for: "expired") == nil)
    #expect(["a", "b", "c"].allSatisfy { tokens.entry(for: $0) != nil })
    tokens.insert(.init(caller: caller, expires: now + 60), for: "d", now: now)
    #expect(tokens.entry(for: "d") != nil)
  }

  @Test func jwksKeysAreChosenByKid() async throws {
    let key = ES256PrivateKey()
    let parameters = key.publicKey.parameters!
    let jwks = """
      {"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"\(parameters.x)","y":"\(parameters.y)"}]}
      """
    let verifier = try await verifier { $0.jwksJSON = jwks }
    let signers = JWTKeyCollection()
    await signers.add(ecdsa: key, kid: "k1")
    #expect(try await verifier.verify(try await signers.sign(claims(), kid: "k1")).id == "alice")
    let unknownKid = try await signers.sign(claims(), header: ["kid": "k2"])
    #expect(await reason(verifier, unknownKid) != nil)
  }

  @Test func badConfigurationIsRefused() async throws {
    await #expect(throws: IdentitySetupError.self) { try await verifier { _ in } }
    await #expect(throws: IdentitySetupError.self) {
      try await verifier { $0.hmacSecrets = ["short"] }
    }
    await #expect(throws: IdentitySetupError.self) {
      try await verifier {
        $0.publicKeyPEMs = ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]
      }
    }
  }

  @Test func mintedTokensVerify() async throws {
    let verifier = try await verifier { $0.hmacSecrets = [secret] }
    let token = try await TokenMinter(secret: secret).mint(
      user: "bob", name: "Bob", role: "service")
    #expect(try await verifier.verify(token) == Caller(id: "bob", name: "Bob", role: .service))
  }
}

/// A 2048-bit RSA key made for these tests only.
let testRSAPrivateKeyPEM = """
  -----BEGIN PRIVATE KEY-----
  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDJ78Vl5NDHqn+Q
  d6BgGkGjzv8wwoLAKDg50VNeu+Y7yYdnFuCtyKsRTnwOcCR9wMsRYiSSKYOmIblV
  UXvQxYFnELubwBF3x0XNEF5zUD+W3g9e8mxBraCTIn2pHLMBuJpWqtdeplcbPOKe
  JdVxapoq9e4otWjeAjSEpJvTeRfDre6ifGGNstROCv32Fc8cGDfqfmN4P5iSeqUJ
  yy7kGJFmiuD24e6uJ/Z6T7slux00TdPUDH/1aOuZeDxdbOQnG6YfcF/wQNbX6yBz
  W0ox39fi6cS+eRasuN0o2aCXef+9dVMiY0xiNEzuSGheFJPj4tZQjYwbVz3NGbu3
  +FTES15fAgMBAAECggEAPFcgNg1EcZU53vJQAsd1u7v7txc4OLEL9ALflZwx9MWI
  Zz6HzoX60AYSvcG2tbjpNP2NjftHslm7ZoodpEmQHDr8xFKFJbRu4BK3Fl/xUGR0
  VVu9C3cVV0HkKKdBug7uV11fU5ICz0nHMZh+ihBflty72IA0oLop9US2p180waxs
  VJp0XSzhZZn7bog3CzxlU7t0ZzAhMgWy5BpVaBcJWF42f8K8EPqQPr+vDSj7JNSQ
  DYE8ncdxQHf6sGP4VD1sUznwSeSEPgah6HrZ4Ek4tH3yktir5ib9IrvT0rczGwZW
  lTIz60XPLNmJMA0xEuOwxBsqhLYHOm6KRWisXsEKuQKBgQDxfnGS2W1ZlBLYnXXV
  pNqr/ode7Z4ZObgxRFTovx/GC2OgvwPgNPhs0SvbYnBPMs1TS9t6+2FqeeGEeIbp
  l5zBpHEXJelOSOlcNeR0Tkn85ikDTx6IkMR4OkkVCZUct4k2RnN5EmwpxGLgfrvO
  NC2FO3+NhyOYVlLXs3crrI4rkwKBgQDWEQma7bjdCfSTnp65nQ24Qx9e+BfxY8f4
  UQ+bxvlt4cfFRWhTybD+DgJLE9ulDU9xOR/1ShW9cP0TDq7G6HiEzpRozqvm6Mcf
  uG2JSDDHSmvtSHWrwpQ6jeS8/NPbCGnS2S5qVS8uuWk1zuwz885rqVMWfYApLVaZ
  7EgkETk5hQKBgQDXOYGvBuhV9Yn2VB84kPvyXZ34FH3arX5jKisiY3PF5VCdap/h
  qlPdZ25Wz5yYeQZVPj4VlQR1CLrcfS5/8Qdb7Vp87uTHSGPyMnWw0jVOlzHmKRVl
  UOBI5mlLvoaOWWSIYrF3LdwIPWaB/XETjZ0kKKq9T7uBgS3D38ZNvjPW0QKBgEjb
  GZrKJ63LMpt/U+Q2aLH63lVzOKrmW+vOovJQwRm9y0D/w2co8P02hV9KDepZ4lzV
  pWPVaBrGtstipud5vXLt4CLfnDAFr6fDHDyp/jgFwz/J9oqTueFH477SicQ1U9b4
  Jcz42wsa/YzbtRZldy67PVUdN55MGPpgKZlk50YFAoGAXaflqIIOjsp27ZMpWnBp
  C1dToeFPsskJXy1VrB/6uWj86EQcWTyVmtgjUOUPwaj6bz3+2GAq9aDaDPXFsuv7
  8uobpxI660vi5Nq5bxC/bEAiCjBXFWKEvT9E/cGJct+B9DFDDcAbpzXNxYumm/eR
  vGxYsTsR9MpgFRPVYTWIP3k=
  -----END PRIVATE KEY-----
  """
