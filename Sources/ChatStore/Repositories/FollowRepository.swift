/// Follows: idempotent follow/unfollow, relationships, follower and following lists.
public struct FollowRepository: Sendable {
  let pool: PostgresPool

  /// Follows `user`; the first follow writes a FOLLOWED notification for them in the same
  /// transaction. `.invalidInput` for oneself, `.notFound` for an unknown user.
  public func follow(follower: String, user: String) async throws
    -> (relationship: Relationship, changed: Bool)
  {
    let results = try await pool.execute([
      "SELECT chat_follow(\(follower), \(user), \("chatd://users/" + follower)) AS changed",
      Self.relationshipQuery(viewer: follower, other: user),
    ])
    return (try Self.relationship(results[1], user), try results[0].first!.decode("changed"))
  }

  /// Unfollows; `changed` is false when there was nothing to undo.
  public func unfollow(follower: String, user: String) async throws
    -> (relationship: Relationship, changed: Bool)
  {
    let results = try await pool.execute([
      "DELETE FROM follows WHERE follower_id = \(follower) AND followee_id = \(user)",
      Self.relationshipQuery(viewer: follower, other: user),
    ])
    return (try Self.relationship(results[1], user), results[0].affectedRows > 0)
  }

  public func relationship(viewer: String, other: String) async throws -> Relationship {
    try Self.relationship(
      try await pool.query(Self.relationshipQuery(viewer: viewer, other: other)), other)
  }

  /// Who follows `user`, newest first, with the total.
  public func followers(of user: String, limit: Int, after cursor: String? = nil) async throws
    -> (page: Page<UserProfile>, total: Int64)
  {
    try await list(user: user, followers: true, limit: limit, cursor: cursor)
  }

  /// Whom `user` follows, newest first, with the total.
  public func following(of user: String, limit: Int, after cursor: String? = nil) async throws
    -> (page: Page<UserProfile>, total: Int64)
  {
    try await list(user: user, followers: false, limit: limit, cursor: cursor)
  }

  /// Whether `text` has the form of a cursor the follow lists issue ("micros_userid"):
  /// services refuse others rather than let them read as the first page.
  public static func isWellFormedCursor(_ text: String) -> Bool {
    let parts = text.split(separator: "_", maxSplits: 1)
    return parts.count == 2 && Int64(parts[0]) != nil
  }

  private func list(user: String, followers: Bool, limit: Int, cursor: String?) async throws
    -> (page: Page<UserProfile>, total: Int64)
  {
    // The cursor is "micros_userid" of the last row: (created_at, other id) descending.
    let parts = cursor?.split(separator: "_", maxSplits: 1).map(String.init)
    let micros = parts?.count == 2 ? Int64(parts![0]) : nil
    let afterID = micros != nil ? parts?[1] : nil
    let (me, other) = followers ? ("followee_id", "follower_id") : ("follower_id", "followee_id")
    let results = try await pool.execute([
      """
      SELECT \(unsafeSQL: UserProfile.columns),
        (extract(epoch FROM f.created_at) * 1000000)::bigint AS followed_micros
      FROM follows f JOIN users u ON u.id = f.\(unsafeSQL: other)
      WHERE f.\(unsafeSQL: me) = \(user)
        AND (\(micros)::bigint IS NULL OR ((extract(epoch FROM f.created_at) * 1000000)::bigint,
          f.\(unsafeSQL: other)) < (\(micros)::bigint, \(afterID)::text))
      ORDER BY f.created_at DESC, f.\(unsafeSQL: other) DESC
      LIMIT \(limit + 1)
      """,
      "SELECT count(*) AS n FROM follows WHERE \(unsafeSQL: me) = \(user)",
    ])
    let rows = results[0].rows
    let items = try rows.prefix(limit).map(UserProfile.init(row:))
    var next: String?
    if rows.count > limit, let last = rows.prefix(limit).last {
      next =
        "\(try last.decode("followed_micros", as: Int64.self))_\(try last.decode("id", as: String.self))"
    }
    return (Page(items: items, nextCursor: next), try results[1].first!.decode("n"))
  }

  private static func relationshipQuery(viewer: String, other: String) -> PostgresQuery {
    """
    SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = \(viewer) AND followee_id = \(other))
        AS following,
      EXISTS (SELECT 1 FROM follows WHERE follower_id = \(other) AND followee_id = \(viewer))
        AS followed_by
    """
  }

  private static func relationship(_ result: PostgresResult, _ user: String) throws
    -> Relationship
  {
    let row = try result.first.orNotFound()
    return Relationship(
      userID: user, following: try row.decode("following"),
      followedBy: try row.decode("followed_by"))
  }
}
