import AccessTokens
import ArgumentParser
import ChatProtos

/// `chatctl token`: a development token signed with chatd's secret.
struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token", abstract: "Print a development access token for a user.",
    discussion: """
      Signs with --secret, or with the development secret in chatd's data dir (the one a chatd \
      started without JWT keys verifies with).
      """)

  @Option(help: "The user id (sub claim).") var user: String
  @Option(help: "The display name (name claim).") var name: String?
  @Option(help: "user, service or admin.") var role: String = "user"
  @Option(help: "Seconds the token stays valid.") var ttl: Int = 86_400
  @Option(help: "chatd's data dir, whose jwt-secret signs the token.") var dataDir = "./.chatd/"
  @Option(help: "An HS256 secret to sign with instead (chatd's --jwt-secret).") var secret: String?

  func run() async throws {
    guard ["user", "service", "admin"].contains(role) else {
      throw ValidationError("--role takes user, service or admin")
    }
    let key = try secret ?? DevelopmentSecret.loadOrCreate(dataDir: dataDir)
    print(
      try await TokenMinter(secret: key).mint(
        user: user, name: name ?? user, role: role, lifetime: .seconds(ttl)))
  }
}

struct WhoamiCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "whoami", abstract: "Show the token's user profile.")
  @OptionGroup var options: ServerOptions

  func run() async throws {
    try await options.withClient { client, output in
      let me = try await client.users.getMe(Social_V1_GetMeRequest())
      output.emit(
        me.object,
        text: "\(me.text): \(me.followerCount) followers, \(me.followingCount) following")
    }
  }
}
