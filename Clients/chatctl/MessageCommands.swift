import ArgumentParser
import ChatProtos
import Foundation

struct SendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "send", abstract: "Send a message to a room.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The room id.") var room: String
  @Argument(help: "The message text.") var body: String
  @Option(help: "Reply to this message id.") var replyTo: String?
  @Option(help: "Idempotency key: resending with the same one returns the first message.")
  var clientMsgID = UUID().uuidString

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_SendMessageRequest()
      request.roomId = room
      request.body = body
      request.clientMsgId = clientMsgID
      request.replyToMessageId = replyTo ?? ""
      let message = try await client.chat.sendMessage(request)
      output.emit(message.object, text: message.text)
    }
  }
}

struct HistoryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "history", abstract: "Show a room's messages (the latest by default).")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The room id.") var room: String
  @Option(help: "Messages before this seq.") var before: UInt64?
  @Option(help: "Messages after this seq.") var after: UInt64?
  @Option(help: "How many messages.") var limit: UInt32 = 50

  func validate() throws {
    if before != nil, after != nil {
      throw ValidationError("--before and --after exclude each other")
    }
  }

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_GetMessagesRequest()
      request.roomId = room
      request.beforeSeq = before
      request.afterSeq = after
      request.limit = limit
      for message in try await client.chat.getMessages(request).messages {
        output.emit(message.object, text: message.text)
      }
    }
  }
}

struct EditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "edit", abstract: "Replace the text of one of your messages.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The message id.") var message: String
  @Argument(help: "The new text.") var body: String

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_EditMessageRequest()
      request.messageId = message
      request.body = body
      let edited = try await client.chat.editMessage(request)
      output.emit(edited.object, text: edited.text)
    }
  }
}

struct DeleteCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete", abstract: "Delete a message (yours, or any as a group admin).")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The message id.") var message: String

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_DeleteMessageRequest()
      request.messageId = message
      let tombstone = try await client.chat.deleteMessage(request)
      output.emit(tombstone.object, text: tombstone.text)
    }
  }
}

struct ReactCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "react", abstract: "Add (or with --remove, take back) a reaction.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The message id.") var message: String
  @Argument(help: "One emoji.") var emoji: String
  @Flag(help: "Remove the reaction instead.") var remove = false

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_ReactionRequest()
      request.messageId = message
      request.emoji = emoji
      let updated =
        remove
        ? try await client.chat.removeReaction(request) : try await client.chat.addReaction(request)
      output.emit(updated.object, text: updated.text)
    }
  }
}

struct SearchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search", abstract: "Search the messages of your rooms.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "Words to look for.") var query: String
  @Option(help: "Only this room.") var room: String?

  func run() async throws {
    try await options.withClient { client, output in
      var request = Chat_V1_SearchMessagesRequest()
      request.query = query
      request.roomId = room ?? ""
      for message in try await client.chat.searchMessages(request).messages {
        output.emit(message.object, text: "\(message.roomId) " + message.text)
      }
    }
  }
}
