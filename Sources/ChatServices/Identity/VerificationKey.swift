import AccessTokens
import COpenSSL
import Foundation

/// One key that may verify tokens, with the one algorithm it accepts: a token whose `alg` is
/// not its key's never reaches a signature check, so `none` and HS/RS confusion fail.
struct VerificationKey: Sendable {
  /// The `kid` a token must name to pick this key; nil keys are tried for any token.
  let kid: String?
  let algorithm: String
  // One of the two. (Not an enum of both: its case would live in the spare bits of the
  // pointer, and LeakSanitizer, in the fuzz targets, would not see the key as reachable.)
  private let secret: [UInt8]?
  private let publicKey: PublicKey?

  init(kid: String?, secret: [UInt8]) {
    (self.kid, algorithm, self.secret, publicKey) = (kid, "HS256", secret, nil)
  }

  init(kid: String?, publicKey: PublicKey) {
    (self.kid, algorithm, secret, self.publicKey) = (kid, publicKey.algorithm, nil, publicKey)
  }

  /// Whether `signature` is this key's over `signingInput`.
  func verifies(_ signingInput: [UInt8], signature: [UInt8]) -> Bool {
    if let secret { return HMACSHA256.isValid(signature, key: secret, data: signingInput) }
    return publicKey?.verifies(signingInput, signature: signature) ?? false
  }

  static func hmac(secret: String) -> VerificationKey {
    VerificationKey(kid: nil, secret: Array(secret.utf8))
  }

  /// An RSA (RS256, 2048 bits or more), P-256 (ES256) or Ed25519 (EdDSA) public key in PEM.
  static func publicKey(pem: String) throws -> VerificationKey {
    guard let key = PublicKey(pem: pem) else {
      throw IdentitySetupError(
        "not an RSA (2048 bits or more), P-256 or Ed25519 public key in PEM"
          + " (a PUBLIC KEY block; private keys are refused)")
    }
    return VerificationKey(kid: nil, publicKey: key)
  }
}

/// A public key on libcrypto, shared by every verification (OpenSSL keys may be used from
/// several threads at once as long as nobody changes them, and nobody does).
final class PublicKey: @unchecked Sendable {
  private let key: OpaquePointer
  private let jwsAlgorithm: Int32
  /// The JWS name of the one algorithm this key verifies.
  let algorithm: String

  /// Takes ownership of `key`; nil (and freed) when chatd does not accept its type or size.
  private init?(taking key: OpaquePointer?) {
    guard let key else { return nil }
    let algorithm = copenssl_jws_algorithm(key)
    guard let name = Self.names[algorithm] else {
      EVP_PKEY_free(key)
      return nil
    }
    self.key = key
    self.jwsAlgorithm = algorithm
    self.algorithm = name
  }

  deinit { EVP_PKEY_free(key) }

  private static let names: [Int32: String] = [
    Int32(COPENSSL_JWS_RS256): "RS256", Int32(COPENSSL_JWS_ES256): "ES256",
    Int32(COPENSSL_JWS_EDDSA): "EdDSA",
  ]

  convenience init?(pem: String) {
    self.init(taking: copenssl_public_key_from_pem(pem, pem.utf8.count))
  }

  /// An RSA key from its modulus and exponent.
  convenience init?(rsaModulus n: [UInt8], exponent e: [UInt8]) {
    self.init(taking: copenssl_rsa_public_key(n, n.count, e, e.count))
  }

  /// A P-256 key from its coordinates; nil unless each is 32 bytes and the point is on the
  /// curve.
  convenience init?(p256X x: [UInt8], y: [UInt8]) {
    guard x.count == 32, y.count == 32 else { return nil }
    self.init(taking: copenssl_p256_public_key(x, y))
  }

  /// An Ed25519 key from its 32 bytes.
  convenience init?(ed25519 x: [UInt8]) {
    guard x.count == 32 else { return nil }
    self.init(taking: copenssl_ed25519_public_key(x))
  }

  func verifies(_ data: [UInt8], signature: [UInt8]) -> Bool {
    copenssl_jws_verify(key, jwsAlgorithm, data, data.count, signature, signature.count) == 1
  }
}

/// Why the configured keys cannot be used; says which, never the key itself.
public struct IdentitySetupError: Error, Sendable, CustomStringConvertible {
  public var description: String

  init(_ description: String) { self.description = description }
}
