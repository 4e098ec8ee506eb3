public import Foundation

/// A user as the API shows them, with follow counts.
public struct UserProfile: Sendable, Hashable {
  public var id: String
  public var displayName: String
  public var avatarURL: String
  public var followerCount: Int64
  public var followingCount: Int64
  public var createdAt: Date
  public var lastSeenAt: Date?

  init(row: PostgresRow) throws {
    id = try row.decode("id")
    displayName = try row.decode("display_name")
    avatarURL = try row.decode("avatar_url")
    followerCount = try row.decode("follower_count")
    followingCount = try row.decode("following_count")
    createdAt = try row.decode("created_at")
    lastSeenAt = try row.decode("last_seen_at", as: Date?.self)
  }

  /// The columns `init(row:)` reads, for `users u`.
  static let columns = """
    u.id, u.display_name, u.avatar_url, u.created_at, u.last_seen_at,
    (SELECT count(*) FROM follows f WHERE f.followee_id = u.id) AS follower_count,
    (SELECT count(*) FROM follows f WHERE f.follower_id = u.id) AS following_count
    """
}

/// The short form of a user embedded in messages, members and notifications.
public struct UserSummary: Sendable, Hashable {
  public var id: String
  public var displayName: String
  public var avatarURL: String

  public init(id: String, displayName: String, avatarURL: String) {
    self.id = id
    self.displayName = displayName
    self.avatarURL = avatarURL
  }
}
