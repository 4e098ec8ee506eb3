public import Foundation

/// A room with its members.
public struct Room: Sendable, Hashable {
  public enum Kind: Int16, Sendable {
    case direct = 1
    case group = 2
  }

  public var id: String
  public var kind: Kind
  public var title: String
  public var members: [Member]
  public var lastSeq: Int64
  public var createdAt: Date
  public var lastActivityAt: Date

  init(row: PostgresRow, members: [Member]) throws {
    id = try row.decode("id")
    guard let kind = Kind(rawValue: Int16(try row.decode("kind", as: Int.self))) else {
      throw StoreError(.internalError, serverMessage: "room kind")
    }
    self.kind = kind
    title = try row.decode("title")
    self.members = members
    lastSeq = try row.decode("last_seq")
    createdAt = try row.decode("created_at")
    lastActivityAt = try row.decode("last_activity_at")
  }
}

/// A room as a member's conversation list shows it.
public struct RoomSummary: Sendable, Hashable {
  public var room: Room
  public var lastMessage: Message?
  /// The viewer's unread messages (others' live messages after the read pointer).
  public var unreadCount: Int
}

/// One member of a room.
public struct Member: Sendable, Hashable {
  public enum Role: Int16, Sendable {
    case owner = 1
    case admin = 2
    case member = 3
  }

  public var user: UserSummary
  public var role: Role
  public var lastReadSeq: Int64
  public var lastDeliveredSeq: Int64
  public var joinedAt: Date
  public var muted: Bool
  /// A live SubscribeUser stream on an instance whose lease is current.
  public var online: Bool
  public var lastSeenAt: Date?

  /// Decodes a row of `chat_members(rooms)`.
  init(row: PostgresRow) throws {
    user = UserSummary(
      id: try row.decode("user_id"), displayName: try row.decode("display_name"),
      avatarURL: try row.decode("avatar_url"))
    guard let role = Role(rawValue: Int16(try row.decode("role", as: Int.self))) else {
      throw StoreError(.internalError, serverMessage: "member role")
    }
    self.role = role
    lastReadSeq = try row.decode("last_read_seq")
    lastDeliveredSeq = try row.decode("last_delivered_seq")
    joinedAt = try row.decode("joined_at")
    muted = try row.decode("muted")
    online = try row.decode("online")
    lastSeenAt = try row.decode("last_seen_at", as: Date?.self)
  }
}
