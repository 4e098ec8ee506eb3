import AccessTokens
import Foundation

/// A signing key made and used by the `openssl` command line, as an identity provider's own
/// signer would be: the tests check chatd's verification against an independent
/// implementation of RS256, ES256 and EdDSA.
final class OpenSSLSigner {
  enum Kind {
    case rsa, p256, ed25519
  }

  let kind: Kind
  private let folder: URL
  private let privateKey: URL

  /// A new key of `kind`; RSA keys come from `privatePEM` (making one costs seconds).
  init(_ kind: Kind, privatePEM: String? = nil) throws {
    self.kind = kind
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-keys-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    privateKey = folder.appendingPathComponent("key.pem")
    if let privatePEM {
      try Data(privatePEM.utf8).write(to: privateKey)
    } else {
      let algorithm =
        switch kind {
        case .rsa: ["RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        case .p256: ["EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        case .ed25519: ["ED25519"]
        }
      _ = try Self.openssl(["genpkey", "-algorithm"] + algorithm + ["-out", privateKey.path])
    }
  }

  deinit { try? FileManager.default.removeItem(at: folder) }

  var algorithm: String {
    switch kind {
    case .rsa: "RS256"
    case .p256: "ES256"
    case .ed25519: "EdDSA"
    }
  }

  var publicPEM: String {
    get throws {
      String(
        decoding: try Self.openssl(["pkey", "-in", privateKey.path, "-pubout"]), as: UTF8.self)
    }
  }

  /// The public key's members in a JWK (base64url), as a provider publishes them.
  func jwk(kid: String) throws -> String {
    let der = try Self.openssl(["pkey", "-in", privateKey.path, "-pubout", "-outform", "DER"])
    switch kind {
    case .p256:
      // SubjectPublicKeyInfo ends with the uncompressed point: 04, x, y.
      let point = der.suffix(64)
      return """
        {"kty":"EC","crv":"P-256","kid":"\(kid)","x":"\(CompactJWS.base64URL(point.prefix(32)))",\
        "y":"\(CompactJWS.base64URL(point.suffix(32)))"}
        """
    case .ed25519:
      return """
        {"kty":"OKP","crv":"Ed25519","kid":"\(kid)","x":"\(CompactJWS.base64URL(der.suffix(32)))"}
        """
    case .rsa:
      let text = String(
        decoding: try Self.openssl(["rsa", "-in", privateKey.path, "-modulus", "-noout"]),
        as: UTF8.self)
      // "Modulus=" and the hex digits.
      let hex = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(8))
      let modulus = stride(from: 0, to: hex.count, by: 2).map {
        UInt8(String(hex[$0..<$0 + 2]), radix: 16)!
      }
      return """
        {"kty":"RSA","kid":"\(kid)","n":"\(CompactJWS.base64URL(modulus))","e":"AQAB"}
        """
    }
  }

  /// A token of `claims` signed with this key; `header` adds members (a `kid`).
  func token(_ claims: TokenClaims, header: [String: String] = [:]) throws -> String {
    let header = try JSONSerialization.data(
      withJSONObject: ["alg": algorithm, "typ": "JWT"].merging(header) { $1 }, options: .sortedKeys)
    return try CompactJWS.encode(
      header: header, payload: try JSONEncoder().encode(claims), sign: sign)
  }

  func sign(_ data: [UInt8]) throws -> [UInt8] {
    let input = folder.appendingPathComponent("input")
    try Data(data).write(to: input)
    switch kind {
    case .rsa:
      return Array(try Self.openssl(["dgst", "-sha256", "-sign", privateKey.path, input.path]))
    case .p256:
      let der = Array(
        try Self.openssl(["dgst", "-sha256", "-sign", privateKey.path, input.path]))
      return try Self.rawECDSA(der)
    case .ed25519:
      return Array(
        try Self.openssl([
          "pkeyutl", "-sign", "-inkey", privateKey.path, "-rawin", "-in", input.path,
        ]))
    }
  }

  /// JWS's form of an ECDSA signature: r and s, 32 bytes each, from OpenSSL's DER
  /// (SEQUENCE { INTEGER r, INTEGER s }, short lengths for P-256).
  static func rawECDSA(_ der: [UInt8]) throws -> [UInt8] {
    struct NotDER: Error {}
    guard der.count > 8, der[0] == 0x30, der[2] == 0x02 else { throw NotDER() }
    var raw: [UInt8] = []
    var index = 2
    for _ in 0..<2 {
      guard der[index] == 0x02 else { throw NotDER() }
      let length = Int(der[index + 1])
      let value = der[(index + 2)..<(index + 2 + length)].drop { $0 == 0 }
      guard value.count <= 32 else { throw NotDER() }
      raw += repeatElement(0, count: 32 - value.count) + value
      index += 2 + length
    }
    return raw
  }

  static func openssl(_ arguments: [String]) throws -> Data {
    struct Failed: Error, CustomStringConvertible { var description: String }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failed(
        description: "openssl \(arguments.joined(separator: " ")): "
          + String(decoding: message, as: UTF8.self))
    }
    return data
  }
}
