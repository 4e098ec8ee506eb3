import Foundation

/// The HS256 secret chatd (and chatctl, to mint tokens) uses when no key is configured: random, created once in the data
/// directory (`jwt-secret`, readable by its owner only), so tokens survive restarts.
public enum DevelopmentSecret {
  public static func path(dataDir: String) -> String {
    URL(fileURLWithPath: dataDir, isDirectory: true).appendingPathComponent("jwt-secret").path
  }

  /// The data dir's secret, created when missing.
  public static func loadOrCreate(dataDir: String) throws -> String {
    let path = path(dataDir: dataDir)
    if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
      let secret = existing.trimmingCharacters(in: .whitespacesAndNewlines)
      if !secret.isEmpty { return secret }
    }
    try FileManager.default.createDirectory(
      atPath: dataDir, withIntermediateDirectories: true)
    var generator = SystemRandomNumberGenerator()
    let secret = (0..<32).map { _ in
      String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator))
    }.joined()
    guard
      FileManager.default.createFile(
        atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
    else { throw TokenMintingError("cannot write the development secret to \(path)") }
    return secret
  }
}
