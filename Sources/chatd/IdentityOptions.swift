import ArgumentParser
import ChatServices
import Foundation

/// The `--jwt-*` flags, shared by `chatd` and `chatd token`.
struct IdentityOptions: ParsableArguments {
  @Option(
    help:
      "HS256 secret (32+ bytes) that signs access tokens; prefer the env var, which ps does not show. Env: CHATD_JWT_SECRET."
  )
  var jwtSecret: String? = env("JWT_SECRET")

  @Option(
    help:
      "PEM public key (RSA: RS256, P-256: ES256, Ed25519: EdDSA) verifying tokens; repeatable. Env: CHATD_JWT_PUBLIC_KEY (comma-separated files)."
  )
  var jwtPublicKey: [String] =
    env("JWT_PUBLIC_KEY").map { $0.split(separator: ",").map(String.init) } ?? []

  @Option(help: "JWKS file with public keys (each with a kid). Env: CHATD_JWKS_FILE.")
  var jwksFile: String? = env("JWKS_FILE")

  @Option(help: "Required iss claim. Env: CHATD_JWT_ISSUER.")
  var jwtIssuer: String? = env("JWT_ISSUER")

  @Option(help: "Required aud claim. Env: CHATD_JWT_AUDIENCE.")
  var jwtAudience: String? = env("JWT_AUDIENCE")

  /// Reads the key files; no key at all leaves `hasKeys` false (development mode).
  func configuration() throws -> IdentityConfiguration {
    var identity = IdentityConfiguration()
    if let jwtSecret, !jwtSecret.isEmpty { identity.hmacSecrets = [jwtSecret] }
    identity.publicKeyPEMs = try jwtPublicKey.map { try Self.read($0, flag: "--jwt-public-key") }
    identity.jwksJSON = try jwksFile.map { try Self.read($0, flag: "--jwks-file") }
    identity.issuer = jwtIssuer.flatMap { $0.isEmpty ? nil : $0 }
    identity.audience = jwtAudience.flatMap { $0.isEmpty ? nil : $0 }
    return identity
  }

  private static func read(_ path: String, flag: String) throws -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw ValidationError("\(flag): cannot read \(path)")
    }
    return text
  }
}
