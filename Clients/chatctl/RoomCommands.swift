import ArgumentParser
import ChatProtos

struct RoomsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rooms", abstract: "List your rooms, most recent activity first.")
  @OptionGroup var options: ServerOptions
  @Option(help: "How many rooms.") var limit: UInt32 = 50

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_ListRoomsRequest()
      request.pageSize = limit
      for summary in try await client.chat.listRooms(request).rooms {
        guard let room = summary.room else { continue }
        var object = room.object
        object["unreadCount"] = Int(summary.unreadCount)
        if let last = summary.lastMessage { object["lastMessage"] = last.object }
        let unread = summary.unreadCount > 0 ? "  [\(summary.unreadCount) unread]" : ""
        output.emit(object, text: room.text + unread)
      }
    }
  }
}

struct StartCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start", abstract: "Start (or find) the direct chat with a user.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The other user's id.") var user: String

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_StartChatRequest()
      request.peerUserId = user
      let room = try await client.chat.startChat(request)
      output.emit(room.object, text: room.id)
    }
  }
}

struct GroupCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "group", abstract: "Create a group room.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The group's title.") var title: String
  @Option(name: .customLong("member"), help: "A member's user id (repeatable).")
  var members: [String] = []

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_CreateGroupRequest()
      request.title = title
      request.memberUserIds = members
      let room = try await client.chat.createGroup(request)
      output.emit(room.object, text: room.id)
    }
  }
}

struct ReadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "read", abstract: "Mark a room read (up to its last message by default).")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The room id.") var room: String
  @Option(help: "Mark read up to this seq.") var upTo: UInt64?

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_MarkReadRequest()
      request.roomId = room
      if let upTo {
        request.upToSeq = upTo
      } else {
        var get = Chat_V1_GetRoomRequest()
        get.roomId = room
        request.upToSeq = try await client.chat.getRoom(get).room?.lastSeq ?? 0
      }
      let reply = try await client.chat.markRead(request)
      output.emit(
        ["lastReadSeq": String(reply.lastReadSeq), "unreadCount": Int(reply.unreadCount)],
        text: "read up to #\(reply.lastReadSeq), \(reply.unreadCount) unread")
    }
  }
}
