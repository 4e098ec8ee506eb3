/// A user's notification log (per-user seq): lists, read marks, replay.
public struct NotificationRepository: Sendable {
  let pool: PostgresPool

  static let columns = """
    n.seq, n.kind, n.actor_id, a.display_name AS actor_name, a.avatar_url AS actor_avatar,
    n.room_id::text AS room_id, n.deep_link, n.created_at, n.seq <= u.notifications_read_seq AS read
    FROM notifications n JOIN users u ON u.id = n.user_id LEFT JOIN users a ON a.id = n.actor_id
    """

  /// Newest first; the cursor is the last seq shown. Also returns the unread count.
  ///
  /// `unreadOnly` filters in the query, so pages are full and the cursor ends with the last
  /// unread notification. Unread ones are those past the user's read seq: the filter is a
  /// lower bound on the primary key's seq, and the scan stops there.
  public func list(
    user: String, limit: Int, after cursor: String? = nil, unreadOnly: Bool = false
  ) async throws -> (page: Page<Notification>, unreadCount: Int64) {
    let before = cursor.flatMap { Int64($0) } ?? Int64.max
    let results = try await pool.execute([
      """
      SELECT \(unsafeSQL: Self.columns)
      WHERE n.user_id = \(user) AND n.seq < \(before)
        AND n.seq > CASE WHEN \(unreadOnly)
          THEN (SELECT notifications_read_seq FROM users WHERE id = \(user)) ELSE 0 END
      ORDER BY n.seq DESC LIMIT \(limit + 1)
      """,
      "SELECT notification_seq - notifications_read_seq AS unread FROM users WHERE id = \(user)",
    ])
    let rows = results[0].rows
    let items = try rows.prefix(limit).map(Notification.init(row:))
    let next = rows.count > limit ? items.last.map { String($0.seq) } : nil
    let unread: Int64 = try results[1].first?.decode("unread") ?? 0
    return (Page(items: items, nextCursor: next), unread)
  }

  /// Marks notifications up to `seq` read (never backwards); returns the unread count.
  public func markRead(user: String, upTo seq: Int64) async throws -> Int64 {
    try await pool.query(
      """
      UPDATE users SET notifications_read_seq =
        GREATEST(notifications_read_seq, LEAST(\(seq), notification_seq))
      WHERE id = \(user) RETURNING notification_seq - notifications_read_seq AS unread
      """
    ).first.orNotFound().decode("unread")
  }

  /// SubscribeUser's replay: notifications after `seq`, oldest first.
  public func after(user: String, seq: Int64, limit: Int) async throws -> [Notification] {
    try await pool.query(
      """
      SELECT \(unsafeSQL: Self.columns)
      WHERE n.user_id = \(user) AND n.seq > \(seq) ORDER BY n.seq LIMIT \(limit)
      """
    ).rows.map(Notification.init(row:))
  }
}

extension NotificationRepository {
  /// The last notification seq of each existing user among `users`.
  public func lastSeqs(users: [String]) async throws -> [String: Int64] {
    let rows = try await pool.query(
      "SELECT id, notification_seq FROM users WHERE id = ANY (\(users)::text[])"
    ).rows
    return Dictionary(
      try rows.map {
        (try $0.decode("id", as: String.self), try $0.decode("notification_seq", as: Int64.self))
      },
      uniquingKeysWith: { first, _ in first })
  }
}
