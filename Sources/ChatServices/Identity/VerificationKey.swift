import Foundation
import JWTKit

/// One key that may verify tokens, with the algorithms it accepts: a token whose `alg` is not
/// on its key's list never reaches a signature check, so `none` and HS/RS confusion fail.
struct VerificationKey: Sendable {
  /// The `kid` a token must name to pick this key; nil keys are tried for any token.
  let kid: String?
  let algorithms: Set<String>
  /// A collection holding this key alone, as its default signer.
  let collection: JWTKeyCollection

  static func hmac(secret: String) async -> VerificationKey {
    let collection = JWTKeyCollection()
    await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    return VerificationKey(kid: nil, algorithms: ["HS256"], collection: collection)
  }

  /// An RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA) public key in PEM.
  static func publicKey(pem: String) async throws -> VerificationKey {
    let collection = JWTKeyCollection()
    if let key = try? Insecure.RSA.PublicKey(pem: pem) {
      await collection.add(rsa: key, digestAlgorithm: .sha256)
      return VerificationKey(kid: nil, algorithms: ["RS256"], collection: collection)
    }
    if let key = try? ES256PublicKey(pem: pem) {
      await collection.add(ecdsa: key)
      return VerificationKey(kid: nil, algorithms: ["ES256"], collection: collection)
    }
    if let key = try? EdDSA.PublicKey(pem: pem) {
      await collection.add(eddsa: key)
      return VerificationKey(kid: nil, algorithms: ["EdDSA"], collection: collection)
    }
    throw IdentitySetupError(
      "not an RSA, P-256 or Ed25519 public key in PEM (private keys are refused)")
  }

  /// The keys of a JWKS document: each must have a `kid`; its algorithm is its `alg`, or
  /// follows from its type (RSA: RS256, P-256: ES256, OKP: EdDSA).
  static func jwks(json: String) async throws -> [VerificationKey] {
    let document: JWKS
    do {
      document = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
    } catch {
      throw IdentitySetupError("the JWKS file is not a JWKS document")
    }
    var keys: [VerificationKey] = []
    for jwk in document.keys {
      guard let kid = jwk.keyIdentifier?.string else {
        throw IdentitySetupError("every JWKS key needs a kid")
      }
      let algorithm: String
      if let declared = jwk.algorithm?.rawValue {
        algorithm = declared
      } else if jwk.keyType == .rsa {
        algorithm = "RS256"
      } else if jwk.keyType == .ecdsa {
        algorithm = "ES256"
      } else {
        algorithm = "EdDSA"
      }
      guard ["RS256", "ES256", "EdDSA"].contains(algorithm) else {
        throw IdentitySetupError("JWKS key \(kid): algorithm \(algorithm) is not accepted")
      }
      let collection = JWTKeyCollection()
      do {
        try await collection.add(jwk: jwk)
      } catch {
        throw IdentitySetupError("JWKS key \(kid) cannot be used")
      }
      keys.append(VerificationKey(kid: kid, algorithms: [algorithm], collection: collection))
    }
    return keys
  }
}

/// Why the configured keys cannot be used; says which, never the key itself.
public struct IdentitySetupError: Error, Sendable, CustomStringConvertible {
  public var description: String

  init(_ description: String) { self.description = description }
}
