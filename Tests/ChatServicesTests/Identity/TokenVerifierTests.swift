import AccessTokens
import Foundation
import Testing

@testable import ChatServices

func claims(
  sub: String? = "alice", expiresIn: TimeInterval? = 600, nbf: TimeInterval? = nil,
  iss: String? = nil, aud: String? = nil, role: String? = nil
) -> TokenClaims {
  TokenClaims(
    sub: sub, exp: expiresIn.map { Date().addingTimeInterval($0) },
    nbf: nbf.map { Date().addingTimeInterval($0) }, iss: iss, aud: aud.map { [$0] },
    name: "Alice", role: role)
}

let secret = "unit-test-secret-0123456789abcdef"

func hmacToken(_ payload: TokenClaims, secret: String = secret) -> String {
  TokenMinter.sign(payload, secret: Array(secret.utf8))
}

/// A token assembled by hand: any header, any payload bytes.
func rawToken(header: String, payload: String, secret: String = secret) -> String {
  CompactJWS.encode(header: Data(header.utf8), payload: Data(payload.utf8)) {
    HMACSHA256.authenticationCode(key: Array(secret.utf8), data: $0)
  }
}

func verifier(_ configure: (inout IdentityConfiguration) throws -> Void) throws -> TokenVerifier {
  var configuration = IdentityConfiguration()
  try configure(&configuration)
  return try TokenVerifier(configuration)
}

func reason(_ verifier: TokenVerifier, _ token: String) -> String? {
  do {
    _ = try verifier.verify(token)
    return nil
  } catch {
    return error.reason
  }
}

@Suite struct TokenVerifierTests {
  @Test func hs256TokenGivesTheCaller() throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    let caller = try verifier.verify(hmacToken(claims(role: "admin")))
    #expect(caller == Caller(id: "alice", name: "Alice", role: .admin))
    // The MAC as another implementation computes it (openssl's HMAC over the signing input).
    let signingInput =
      "\(CompactJWS.base64URL(Array(#"{"alg":"HS256"}"#.utf8))).\(CompactJWS.base64URL(Array(#"{"sub":"bob","exp":9999999999}"#.utf8)))"
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-hmac-\(UUID().uuidString)")
    try Data(signingInput.utf8).write(to: folder)
    defer { try? FileManager.default.removeItem(at: folder) }
    let mac = try OpenSSLSigner.openssl([
      "dgst", "-sha256", "-binary", "-mac", "HMAC", "-macopt", "key:\(secret)", folder.path,
    ])
    let independent = "\(signingInput).\(CompactJWS.base64URL(mac))"
    #expect(try verifier.verify(independent).id == "bob")
  }

  @Test func timeClaimsAreCheckedWithLeeway() throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    #expect(reason(verifier, hmacToken(claims(expiresIn: -120))) != nil)
    #expect(reason(verifier, hmacToken(claims(expiresIn: -5))) == nil)
    #expect(
      reason(verifier, hmacToken(claims(expiresIn: nil)))?.contains("exp") == true)
    #expect(
      reason(verifier, hmacToken(claims(nbf: 300)))?.contains("not valid yet")
        == true)
  }

  @Test func issuerAndAudienceWhenConfigured() throws {
    let verifier = try verifier {
      $0.hmacSecrets = [secret]
      $0.issuer = "https://id.example"
      $0.audience = "chatd"
    }
    let good = hmacToken(claims(iss: "https://id.example", aud: "chatd"))
    #expect(reason(verifier, good) == nil)
    let wrongIssuer = hmacToken(claims(iss: "https://evil.example", aud: "chatd"))
    #expect(reason(verifier, wrongIssuer) == "wrong issuer")
    let noAudience = hmacToken(claims(iss: "https://id.example"))
    #expect(reason(verifier, noAudience) == "wrong audience")
  }

  @Test func es256AndEdDSAPublicKeys() throws {
    let signers = [try OpenSSLSigner(.p256), try OpenSSLSigner(.ed25519)]
    let verifier = try verifier { $0.publicKeyPEMs = try signers.map { try $0.publicPEM } }
    for signer in signers {
      #expect(try verifier.verify(try signer.token(claims())).id == "alice")
      // Each key verifies its own algorithm only: the other's header is refused up front.
      let other = signer.kind == .p256 ? "EdDSA" : "ES256"
      let relabelled = try signer.token(claims(), header: ["alg": other])
      #expect(reason(verifier, relabelled) == "invalid signature")
    }
    // An HS256 token is refused before any signature check: no key allows HS256.
    let hs = hmacToken(claims())
    #expect(reason(verifier, hs)?.contains("algorithm") == true)
  }

  @Test func rsaKeyCannotBeUsedAsAnHMACSecret() throws {
    // A fixed test key: generating one costs about a second of CPU.
    let rsa = try OpenSSLSigner(.rsa, privatePEM: testRSAPrivateKeyPEM)
    let publicPEM = try rsa.publicPEM
    let verifier = try verifier { $0.publicKeyPEMs = [publicPEM] }
    #expect(try verifier.verify(try rsa.token(claims())).id == "alice")
    // The classic confusion: HS256 "signed" with the public key's PEM text.
    let forged = hmacToken(claims(role: "admin"), secret: publicPEM)
    #expect(reason(verifier, forged)?.contains("algorithm") == true)
  }

  /// A signature over other bytes, or of the wrong shape, fails for every algorithm.
  @Test func alteredTokensFailForEveryAlgorithm() throws {
    let signers = [
      try OpenSSLSigner(.rsa, privatePEM: testRSAPrivateKeyPEM), try OpenSSLSigner(.p256),
      try OpenSSLSigner(.ed25519),
    ]
    let verifier = try verifier {
      $0.hmacSecrets = [secret]
      $0.publicKeyPEMs = try signers.map { try $0.publicPEM }
    }
    var tokens = try signers.map { try $0.token(claims()) }
    tokens.append(hmacToken(claims()))
    for token in tokens {
      let parts = token.split(separator: ".").map(String.init)
      let otherPayload = CompactJWS.base64URL(
        try JSONEncoder().encode(claims(sub: "mallory", role: "admin")))
      let signature = CompactJWS.base64URLDecode(parts[2])!
      for altered in [
        "\(parts[0]).\(otherPayload).\(parts[2])",
        "\(parts[0]).\(parts[1]).\(CompactJWS.base64URL(signature.dropLast()))",
        "\(parts[0]).\(parts[1]).\(CompactJWS.base64URL(signature.map { $0 ^ 1 }))",
        "\(parts[0]).\(parts[1]).\(CompactJWS.base64URL(signature + signature))",
        "\(parts[0]).\(parts[1]).",
      ] {
        #expect(reason(verifier, altered) == "invalid signature", "\(altered)")
      }
      #expect(try verifier.verify(token).id == "alice")
    }
  }

  @Test func claimsOfTheWrongTypeAreMalformed() throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    for payload in [
      #"{"sub":"alice","exp":"tomorrow"}"#, #"{"sub":7,"exp":9999999999}"#,
      #"{"sub":"alice","exp":9999999999,"aud":[1]}"#, "[]", "not json",
    ] {
      let token = rawToken(header: #"{"alg":"HS256"}"#, payload: payload)
      #expect(reason(verifier, token) == "the token's claims are malformed", "\(payload)")
    }
    let critical = rawToken(
      header: #"{"alg":"HS256","crit":["exp"]}"#, payload: #"{"sub":"alice","exp":9999999999}"#)
    #expect(reason(verifier, critical)?.contains("critical") == true)
    // `aud` may be one string or an array; fractional NumericDates are dates too.
    let audienced = try TokenVerifier(
      {
        var configuration = IdentityConfiguration()
        configuration.hmacSecrets = [secret]
        configuration.audience = "chatd"
        return configuration
      }())
    for aud in [#""chatd""#, #"["other","chatd"]"#] {
      let token = rawToken(
        header: #"{"alg":"HS256","typ":"JWT"}"#,
        payload: #"{"sub":"alice","exp":9999999999.5,"aud":\#(aud)}"#)
      #expect(try audienced.verify(token).id == "alice")
    }
  }

  @Test func unsignedAndTamperedTokensFail() throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
    let body = Data(#"{"sub":"alice","exp":9999999999}"#.utf8).base64EncodedString()
    #expect(reason(verifier, "\(header).\(body).")?.contains("algorithm") == true)
    #expect(reason(verifier, "garbage") == "malformed token")
    let wrong = hmacToken(claims(), secret: "another-secret-0123456789abcdef-0123456789")
    #expect(reason(verifier, wrong) == "invalid signature")
  }

  @Test func aVerifiedTokenIsRememberedButItsTimesAreCheckedOnEveryUse() throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    let token = hmacToken(claims(expiresIn: 600))
    #expect(try verifier.cachedCaller(token) == nil)
    let caller = try verifier.verify(token)
    #expect(try verifier.cachedCaller(token) == caller)
    // Past exp (and the 30 s leeway), the remembered token is refused like any other.
    let later = Date().addingTimeInterval(600 + 60)
    #expect(throws: AuthenticationError.self) { try verifier.cachedCaller(token, now: later) }
    #expect(throws: AuthenticationError.self) { try verifier.verify(token, now: later) }
    // A token that differs in one character is not the remembered one.
    var tampered = Array(token)
    tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
    #expect(try verifier.cachedCaller(String(tampered)) == nil)
    #expect(reason(verifier, String(tampered)) != nil)
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

  @Test func jwksKeysAreChosenByKid() throws {
    let signers = [
      "k1": try OpenSSLSigner(.p256), "k2": try OpenSSLSigner(.ed25519),
      "k3": try OpenSSLSigner(.rsa, privatePEM: testRSAPrivateKeyPEM),
    ]
    let members = try signers.sorted { $0.key < $1.key }.map { try $0.value.jwk(kid: $0.key) }
    // A provider's encryption key is left out, not refused.
    let encryption = #"{"kty":"RSA","kid":"e1","use":"enc","n":"AQAB","e":"AQAB"}"#
    let jwks = #"{"keys":[\#((members + [encryption]).joined(separator: ","))]}"#
    let verifier = try verifier { $0.jwksJSON = jwks }
    for (kid, signer) in signers {
      let token = try signer.token(claims(), header: ["kid": kid])
      #expect(try verifier.verify(token).id == "alice", "\(kid)")
    }
    let unknownKid = try signers["k1"]!.token(claims(), header: ["kid": "k4"])
    #expect(reason(verifier, unknownKid)?.contains("key id") == true)
    // k1's signature under k2's name: k2 is an Ed25519 key, which ES256 never reaches.
    let wrongKid = try signers["k1"]!.token(claims(), header: ["kid": "k2"])
    #expect(reason(verifier, wrongKid)?.contains("key id") == true)
  }

  @Test func keysChatdCannotTrustAreRefused() throws {
    let weak = try OpenSSLSigner.openssl([
      "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
    ])
    let weakPublic = try publicPEM(ofPrivate: weak)
    let p384 = try OpenSSLSigner.openssl([
      "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
    ])
    for pem in [
      weakPublic, try publicPEM(ofPrivate: p384), String(decoding: weak, as: UTF8.self),
      testRSAPrivateKeyPEM,
    ] {
      #expect(throws: IdentitySetupError.self) {
        try verifier { $0.publicKeyPEMs = [pem] }
      }
    }
    let offCurve = CompactJWS.base64URL(Array(repeating: UInt8(7), count: 32))
    for member in [
      #"{"kty":"EC","crv":"P-256","kid":"a","x":"\#(offCurve)","y":"\#(offCurve)"}"#,
      #"{"kty":"EC","crv":"P-384","kid":"a","x":"\#(offCurve)","y":"\#(offCurve)"}"#,
      #"{"kty":"OKP","crv":"Ed25519","kid":"a","x":"AAAA"}"#,
      #"{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}"#,
      #"{"kty":"oct","kid":"a","k":"c2VjcmV0"}"#,
      #"{"kty":"EC","crv":"P-256","x":"\#(offCurve)","y":"\#(offCurve)"}"#,
      #"{"kty":"RSA","kid":"a","alg":"RS512","n":"AQAB","e":"AQAB"}"#,
    ] {
      #expect(throws: IdentitySetupError.self, "\(member)") {
        try verifier { $0.jwksJSON = #"{"keys":[\#(member)]}"# }
      }
    }
  }

  @Test func badConfigurationIsRefused() throws {
    #expect(throws: IdentitySetupError.self) { try verifier { _ in } }
    #expect(throws: IdentitySetupError.self) {
      try verifier { $0.hmacSecrets = ["short"] }
    }
    #expect(throws: IdentitySetupError.self) {
      try verifier {
        $0.publicKeyPEMs = ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]
      }
    }
  }

  @Test func mintedTokensVerify() async throws {
    let verifier = try verifier { $0.hmacSecrets = [secret] }
    let token = try await TokenMinter(secret: secret).mint(
      user: "bob", name: "Bob", role: "service")
    #expect(try verifier.verify(token) == Caller(id: "bob", name: "Bob", role: .service))
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

/// The public half of a private key in PEM, as `openssl pkey -pubout` writes it.
func publicPEM(ofPrivate pem: Data) throws -> String {
  let file = FileManager.default.temporaryDirectory.appendingPathComponent(
    "chatd-key-\(UUID().uuidString).pem")
  try pem.write(to: file)
  defer { try? FileManager.default.removeItem(at: file) }
  return String(
    decoding: try OpenSSLSigner.openssl(["pkey", "-in", file.path, "-pubout"]), as: UTF8.self)
}
