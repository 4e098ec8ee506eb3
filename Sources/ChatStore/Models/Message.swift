public import Foundation

/// A message as the API shows it to one viewer. A deleted message is a tombstone: empty body,
/// `deletedAt` set, no reactions.
public struct Message: Sendable, Hashable {
  public var id: String
  public var roomID: String
  public var seq: Int64
  /// nil once the sender's account is deleted.
  public var senderID: String?
  public var sender: UserSummary?
  public var clientMsgID: String
  public var body: String
  public var replyToID: String?
  public var replyTo: MessagePreview?
  public var reactions: [ReactionCount]
  public var createdAt: Date
  public var editedAt: Date?
  public var deletedAt: Date?

  public var isDeleted: Bool { deletedAt != nil }

  /// Decodes a row of `chat_messages(viewer, ids)`.
  init(row: PostgresRow) throws {
    id = try row.decode("id")
    roomID = try row.decode("room_id")
    seq = try row.decode("seq")
    senderID = try row.decode("sender_id", as: String?.self)
    if let senderID, let name = try row.decode("sender_name", as: String?.self) {
      sender = UserSummary(
        id: senderID, displayName: name, avatarURL: try row.decode("sender_avatar"))
    }
    clientMsgID = try row.decode("client_msg_id")
    body = try row.decode("body")
    replyToID = try row.decode("reply_to_id", as: String?.self)
    if let replyToID {
      replyTo = MessagePreview(
        id: replyToID, senderID: try row.decode("reply_sender_id", as: String?.self),
        body: try row.decode("reply_body"), isDeleted: try row.decode("reply_deleted"))
    }
    // Most messages have no reactions (every new one, so every SendMessage reply): those skip
    // Foundation's JSON decoder.
    let json = try row.raw("reactions") ?? []
    reactions =
      json.isEmpty || json.elementsEqual("[]".utf8)
      ? [] : try JSONDecoder().decode([ReactionCount].self, from: Data(json))
    createdAt = try row.decode("created_at")
    editedAt = try row.decode("edited_at", as: Date?.self)
    deletedAt = try row.decode("deleted_at", as: Date?.self)
  }
}

/// The replied-to message in short (body cut to 200 characters).
public struct MessagePreview: Sendable, Hashable {
  public var id: String
  public var senderID: String?
  public var body: String
  public var isDeleted: Bool
}

/// One emoji's reactions on a message.
public struct ReactionCount: Sendable, Hashable, Decodable {
  public var emoji: String
  public var count: Int
  public var reactedByMe: Bool

  enum CodingKeys: String, CodingKey {
    case emoji, count
    case reactedByMe = "mine"
  }
}
