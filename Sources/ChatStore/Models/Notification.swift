public import Foundation

/// One entry of a user's notification log.
public struct Notification: Sendable, Hashable {
  public enum Kind: Int16, Sendable {
    case followed = 1
    case addedToRoom = 2
    case removedFromRoom = 3
  }

  public var seq: Int64
  public var kind: Kind
  /// nil when the actor's account was deleted.
  public var actor: UserSummary?
  public var roomID: String?
  public var deepLink: String
  public var createdAt: Date
  public var read: Bool

  init(row: PostgresRow) throws {
    seq = try row.decode("seq")
    guard let kind = Kind(rawValue: Int16(try row.decode("kind", as: Int.self))) else {
      throw StoreError(.internalError, serverMessage: "notification kind")
    }
    self.kind = kind
    if let actorID = try row.decode("actor_id", as: String?.self) {
      actor = UserSummary(
        id: actorID, displayName: try row.decode("actor_name"),
        avatarURL: try row.decode("actor_avatar"))
    }
    roomID = try row.decode("room_id", as: String?.self)
    deepLink = try row.decode("deep_link")
    createdAt = try row.decode("created_at")
    read = try row.decode("read")
  }
}

/// Whether the viewer follows a user and is followed back.
public struct Relationship: Sendable, Hashable {
  public var userID: String
  public var following: Bool
  public var followedBy: Bool
}

/// A page of a list and the cursor of the next one (nil at the end).
public struct Page<Item: Sendable>: Sendable {
  public var items: [Item]
  /// Opaque: pass it back as `after` to continue.
  public var nextCursor: String?
}
