import AccessTokens
import Foundation

/// A JWKS document (RFC 7517): the keys an identity provider publishes. chatd takes the
/// signing keys it can verify with: RSA (RS256), EC P-256 (ES256), OKP Ed25519 (EdDSA).
struct JWKS: Decodable {
  struct Key: Decodable {
    var kty: String
    var kid: String?
    var alg: String?
    var use: String?
    var crv: String?
    var n: String?
    var e: String?
    var x: String?
    var y: String?
  }

  var keys: [Key]

  /// Each key as a `VerificationKey`. Every key needs a `kid`; its algorithm is its `alg`, or
  /// follows from its type. Keys for encryption (`use: enc`) are left out.
  static func verificationKeys(json: String) throws -> [VerificationKey] {
    let document: JWKS
    do {
      document = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
    } catch {
      throw IdentitySetupError("the JWKS file is not a JWKS document")
    }
    return try document.keys.filter { $0.use != "enc" }.map { jwk in
      guard let kid = jwk.kid else { throw IdentitySetupError("every JWKS key needs a kid") }
      guard let algorithm = jwk.alg ?? ["RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"][jwk.kty]
      else { throw IdentitySetupError("JWKS key \(kid): key type \(jwk.kty) is not accepted") }
      guard ["RS256", "ES256", "EdDSA"].contains(algorithm) else {
        throw IdentitySetupError("JWKS key \(kid): algorithm \(algorithm) is not accepted")
      }
      guard let key = jwk.publicKey(), key.algorithm == algorithm else {
        throw IdentitySetupError("JWKS key \(kid) cannot be used")
      }
      return VerificationKey(kid: kid, publicKey: key)
    }
  }
}

extension JWKS.Key {
  /// The key its members describe; nil when they describe none chatd accepts.
  fileprivate func publicKey() -> PublicKey? {
    func bytes(_ text: String?) -> [UInt8]? { text.flatMap(CompactJWS.base64URLDecode) }
    switch (kty, crv) {
    case ("RSA", _):
      guard let n = bytes(n), let e = bytes(e) else { return nil }
      return PublicKey(rsaModulus: n, exponent: e)
    case ("EC", "P-256"):
      guard let x = bytes(x), let y = bytes(y) else { return nil }
      return PublicKey(p256X: x, y: y)
    case ("OKP", "Ed25519"):
      return bytes(x).flatMap { PublicKey(ed25519: $0) }
    default:
      return nil
    }
  }
}
