public import Foundation

/// One persisted room event from the per-room seq log.
public struct RoomEvent: Sendable, Hashable {
  public enum Kind: Int16, Sendable {
    case messageCreated = 1
    case messageUpdated = 2
    case messageDeleted = 3
    case reactionChanged = 4
    case read = 5
    case delivered = 6
    case memberJoined = 7
    case memberLeft = 8
    case roomUpdated = 9
  }

  public var roomID: String
  public var seq: Int64
  public var kind: Kind
  public var actorID: String?
  /// The message of message and reaction events.
  public var messageID: String?
  /// The user of read, delivered and membership events.
  public var subjectUserID: String?
  /// The pointer of read and delivered events.
  public var value: Int64
  public var createdAt: Date
  /// The firehose position just after this event (firehose reads only).
  public var cursor: FirehoseCursor?

  init(row: PostgresRow) throws {
    roomID = try row.decode("room_id")
    seq = try row.decode("seq")
    guard let kind = Kind(rawValue: Int16(try row.decode("kind", as: Int.self))) else {
      throw StoreError(.internalError, serverMessage: "event kind")
    }
    self.kind = kind
    actorID = try row.decode("actor_id", as: String?.self)
    messageID = try row.decode("message_id", as: String?.self)
    subjectUserID = try row.decode("subject_user_id", as: String?.self)
    value = try row.decode("value")
    createdAt = try row.decode("created_at")
  }

  static let columns =
    "room_id, seq, kind, actor_id, message_id, subject_user_id, value, created_at"
}

/// A position in the firehose: the (transaction id, row id) of the last event delivered.
/// Safe under commit reordering: events are only read once their transaction id is below the
/// reading snapshot's xmin, when no transaction that could still add earlier ones is running.
public struct FirehoseCursor: Sendable, Hashable, CustomStringConvertible {
  public var xid: UInt64
  public var id: Int64

  public static let start = FirehoseCursor(xid: 0, id: 0)

  public init(xid: UInt64, id: Int64) {
    self.xid = xid
    self.id = id
  }

  /// Parses `description`'s "xid-id" form; nil when malformed.
  public init?(_ text: String) {
    let parts = text.split(separator: "-")
    guard parts.count == 2, let xid = UInt64(parts[0]), let id = Int64(parts[1]) else {
      return nil
    }
    self.init(xid: xid, id: id)
  }

  public var description: String { "\(xid)-\(id)" }
}
