import ArgumentParser
import ChatClient
import ChatProtos

/// `chatctl tail ROOM` / `chatctl tail --user`: follows a stream live. It resumes by itself
/// after disconnects and server restarts (from the last seq it printed), so nothing is
/// printed twice or lost; `--after` resumes an earlier tail.
struct TailCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tail", abstract: "Follow a room (or with --user, your notifications) live.")
  @OptionGroup var options: ServerOptions
  @Argument(help: "The room id.") var room: String?
  @Flag(help: "Follow your notifications and room activity instead of a room.") var user = false
  @Option(help: "Replay events after this seq first (0: everything).") var after: UInt64 = 0
  @Flag(help: "Also print typing, receipts and heartbeats.") var all = false

  func validate() throws {
    if user == (room != nil) { throw ValidationError("give a room id, or --user") }
  }

  func run() async throws {
    try await options.withClient { client, output in
      if let room {
        for try await event in client.roomEvents(roomID: room, after: after) {
          print(event, to: output)
        }
      } else {
        for try await event in client.userEvents(after: after) { print(event, to: output) }
      }
    }
  }

  private func print(_ event: Chat_V1_RoomEvent, to output: Output) {
    var object: [String: Any] = ["seq": String(event.seq), "roomId": event.roomId]
    let text: String
    switch event.event {
    case .messageCreated(let m):
      (object["messageCreated"], text) = (m.object, m.text)
    case .messageUpdated(let m):
      (object["messageUpdated"], text) = (m.object, m.text + "  (edit)")
    case .messageDeleted(let m):
      (object["messageDeleted"], text) = (m.object, "#\(event.seq) message \(m.id) deleted")
    case .reactionChanged(let m):
      (object["reactionChanged"], text) = (m.object, m.text + "  (reactions)")
    case .memberJoined(let change):
      (object["memberJoined"], text) = (
        ["userId": change.userId, "actorUserId": change.actorUserId],
        "#\(event.seq) \(change.userId) joined"
      )
    case .memberLeft(let change):
      (object["memberLeft"], text) = (
        ["userId": change.userId, "actorUserId": change.actorUserId],
        "#\(event.seq) \(change.userId) left"
      )
    case .roomUpdated(let room):
      (object["roomUpdated"], text) = (room.object, "#\(event.seq) room is now \"\(room.title)\"")
    case .synced(let synced):
      (object["synced"], text) = (["lastSeq": String(synced.lastSeq)], "-- live --")
    case .typing(let typing):
      guard all else { return }
      (object["typing"], text) = (
        ["userId": typing.userId, "typing": typing.typing],
        "\(typing.userId) \(typing.typing ? "is typing…" : "stopped typing")"
      )
    case .read(let read):
      guard all else { return }
      (object["read"], text) = (
        ["userId": read.userId, "lastReadSeq": String(read.lastReadSeq)],
        "#\(event.seq) \(read.userId) read up to #\(read.lastReadSeq)"
      )
    case .delivered(let delivered):
      guard all else { return }
      (object["delivered"], text) = (
        ["userId": delivered.userId, "lastDeliveredSeq": String(delivered.lastDeliveredSeq)],
        "#\(event.seq) delivered to \(delivered.userId) up to #\(delivered.lastDeliveredSeq)"
      )
    case .heartbeat, nil:
      guard all else { return }
      (object["heartbeat"], text) = ([String: Any](), "(heartbeat)")
    }
    output.emit(object, text: text)
  }

  private func print(_ event: Chat_V1_UserEvent, to output: Output) {
    var object: [String: Any] = ["seq": String(event.seq)]
    let text: String
    switch event.event {
    case .notification(let notification):
      (object["notification"], text) = (notification.object, notification.text)
    case .roomActivity(let activity):
      (object["roomActivity"], text) = (
        [
          "roomId": activity.roomId, "message": activity.message?.object ?? [:],
          "unreadCount": Int(activity.unreadCount),
        ],
        "\(activity.roomId) \(activity.message?.text ?? "")  [\(activity.unreadCount) unread]"
      )
    case .roomAdded(let summary):
      (object["roomAdded"], text) = (summary.room?.object ?? [:], "+ \(summary.room?.text ?? "")")
    case .roomRemoved(let room):
      (object["roomRemoved"], text) = (room, "- \(room)")
    case .synced(let synced):
      (object["synced"], text) = (["lastSeq": String(synced.lastSeq)], "-- live --")
    case .heartbeat, nil:
      guard all else { return }
      (object["heartbeat"], text) = ([String: Any](), "(heartbeat)")
    }
    output.emit(object, text: text)
  }
}
