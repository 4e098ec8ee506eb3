import AccessTokens
import ArgumentParser
import ChatServices
import Foundation

/// `chatd token`: mints an HS256 access token with the configured secret, or the development
/// secret of the data dir (the one a chatd without keys verifies with).
struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Print an access token for a user (development).",
    discussion: """
      Signs with --jwt-secret, or with the development secret of --data-dir (both chatd's own \
      flags: chatd --data-dir DIR token --user ID).
      """)

  @Option(help: "The user id (sub claim).")
  var user: String

  @Option(help: "The display name (name claim).")
  var name: String?

  @Option(help: "The avatar URL (picture claim).")
  var picture: String = ""

  @Option(help: "user, service or admin.")
  var role: String = "user"

  @Option(help: "Seconds the token stays valid.")
  var ttl: Int = 86_400

  /// `--data-dir` and the `--jwt-*` flags are chatd's own (given before or after `token`).
  @ParentCommand var chatd: ChatdCommand

  func run() async throws {
    guard let role = Caller.Role(rawValue: role) else {
      throw ValidationError("--role takes user, service or admin")
    }
    guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
    let identity = chatd.identity
    let secret =
      try identity.jwtSecret.flatMap { $0.isEmpty ? nil : $0 }
      ?? DevelopmentSecret.loadOrCreate(dataDir: chatd.dataDir)
    let minter = TokenMinter(
      secret: secret, issuer: identity.jwtIssuer, audience: identity.jwtAudience)
    let token = try await minter.mint(
      user: user, name: name ?? user, picture: picture, role: role.rawValue, lifetime: .seconds(ttl)
    )
    print(token)
  }
}
