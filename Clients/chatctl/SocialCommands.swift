import ArgumentParser
import ChatProtos

struct FollowCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "follow", abstract: "Follow a user.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The user id.") var user: String

  func run() async throws {
    try await options.withClient { client, output in
      var request = Social_V1_FollowRequest()
      request.userId = user
      let reply = try await client.follows.follow(request)
      output.emit(
        ["userId": user, "following": true, "changed": reply.changed],
        text: reply.changed ? "following \(user)" : "already following \(user)")
    }
  }
}

struct UnfollowCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "unfollow", abstract: "Stop following a user.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The user id.") var user: String

  func run() async throws {
    try await options.withClient { client, output in
      var request = Social_V1_UnfollowRequest()
      request.userId = user
      let reply = try await client.follows.unfollow(request)
      output.emit(
        ["userId": user, "following": false, "changed": reply.changed],
        text: reply.changed ? "unfollowed \(user)" : "not following \(user)")
    }
  }
}

/// followers and following: the same listing in two directions.
struct FollowsListing {
  let options: ServerOptions
  let user: String?
  let followers: Bool

  func run() async throws {
    try await options.withClient { client, output in
      var request = Social_V1_ListFollowsRequest()
      request.userId = user ?? ""
      request.pageSize = 200
      let reply =
        followers
        ? try await client.follows.listFollowers(request)
        : try await client.follows.listFollowing(request)
      for profile in reply.users { output.emit(profile.object, text: profile.text) }
      if !options.json { output.emit([:], text: "(\(reply.totalCount) in all)") }
    }
  }
}

struct FollowersCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "followers", abstract: "List a user's followers (yours by default).")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The user id.") var user: String?

  func run() async throws {
    try await FollowsListing(options: options, user: user, followers: true).run()
  }
}

struct FollowingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "following", abstract: "List whom a user follows (you by default).")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The user id.") var user: String?

  func run() async throws {
    try await FollowsListing(options: options, user: user, followers: false).run()
  }
}

struct NotificationsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notifications", abstract: "List your notifications, newest first.")
  @OptionGroup var options: ServerOptions
  @Flag(help: "Only unread ones.") var unread = false
  @Flag(help: "Then mark them all read.") var markRead = false

  func run() async throws {
    try await options.withClient { client, output in
      var request = Social_V1_ListNotificationsRequest()
      request.unreadOnly = unread
      let reply = try await client.users.listNotifications(request)
      for notification in reply.notifications {
        output.emit(notification.object, text: notification.text)
      }
      if markRead, let newest = reply.notifications.map(\.seq).max() {
        var mark = Social_V1_MarkNotificationsReadRequest()
        mark.upToSeq = newest
        _ = try await client.users.markNotificationsRead(mark)
      }
    }
  }
}
