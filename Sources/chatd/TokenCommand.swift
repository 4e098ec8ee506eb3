import ArgumentParser
import ChatServices
import Foundation

/// `chatd token`: mints an HS256 access token with the configured secret, or the development
/// secret of the data dir (the one a chatd without keys verifies with).
struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token", abstract: "Print an access token for a user (development).")

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

  @Option(help: "chatd's data dir, whose development secret signs. Env: CHATD_DATA_DIR.")
  var dataDir: String = env("DATA_DIR") ?? "./.chatd/"

  @OptionGroup var identity: IdentityOptions

  func run() async throws {
    guard let role = Caller.Role(rawValue: role) else {
      throw ValidationError("--role takes user, service or admin")
    }
    guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
    let secret = try identity.jwtSecret ?? DevelopmentSecret.loadOrCreate(dataDir: dataDir)
    let minter = TokenMinter(
      secret: secret, issuer: identity.jwtIssuer, audience: identity.jwtAudience)
    let token = try await minter.mint(
      user: user, name: name ?? user, picture: picture, role: role, lifetime: .seconds(ttl))
    print(token)
  }
}
