import ArgumentParser

/// `chatctl`: chatd from the command line. Human output by default, JSON lines with `--json`.
@main
struct Chatctl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chatctl",
    abstract: "Talk to a chatd server: rooms, messages, live tails, follows.",
    discussion: """
      Every command but `token` needs an access token: --token or CHATCTL_TOKEN. The server is \
      --server or CHATCTL_SERVER (default 127.0.0.1:50051).
      """,
    subcommands: [
      TokenCommand.self, WhoamiCommand.self, RoomsCommand.self, StartCommand.self,
      GroupCommand.self, SendCommand.self, HistoryCommand.self, TailCommand.self,
      ReadCommand.self, ReactCommand.self, EditCommand.self, DeleteCommand.self,
      SearchCommand.self, FollowCommand.self, UnfollowCommand.self, FollowersCommand.self,
      FollowingCommand.self, NotificationsCommand.self,
    ])
}
