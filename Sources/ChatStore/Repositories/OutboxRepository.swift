import Foundation

/// Push rows, written by SendMessage and Follow in their own transactions when push is on
/// (`StoreConfiguration.pushGracePeriod`), and drained by the push worker.
public struct OutboxRepository: Sendable {
  let pool: PostgresPool

  /// One claimed push with everything its notification needs, read in the claim's round trip.
  public struct Item: Sendable, Hashable {
    public enum Kind: Int, Sendable { case message = 1, follow = 2 }

    public var id: Int64
    public var kind: Kind
    /// The recipient.
    public var userID: String
    /// Fixed when the row was written; OneSignal dedupes on it, so every retry reuses it.
    public var idempotencyKey: String
    /// Attempts including this one.
    public var attempts: Int
    /// Messages: the room and the message.
    public var roomID: String?
    public var messageID: String?
    public var body: String
    public var senderName: String
    /// Messages: the group's title, nil for a direct room.
    public var groupTitle: String?
    /// Follows: the follower.
    public var actorID: String?
    public var actorName: String
    public var actorAvatarURL: String
    /// The recipient's unread messages over all their rooms (the badge).
    public var unreadTotal: Int
    /// Nothing to send any more: the message reached the recipient (delivered or read), was
    /// deleted, or the recipient muted or left the room since the row was written.
    public var isStale: Bool

    public init(
      id: Int64, kind: Kind, userID: String, idempotencyKey: String, attempts: Int,
      roomID: String? = nil, messageID: String? = nil, body: String = "", senderName: String = "",
      groupTitle: String? = nil, actorID: String? = nil, actorName: String = "",
      actorAvatarURL: String = "", unreadTotal: Int = 0, isStale: Bool = false
    ) {
      self.id = id
      self.kind = kind
      self.userID = userID
      self.idempotencyKey = idempotencyKey
      self.attempts = attempts
      self.roomID = roomID
      self.messageID = messageID
      self.body = body
      self.senderName = senderName
      self.groupTitle = groupTitle
      self.actorID = actorID
      self.actorName = actorName
      self.actorAvatarURL = actorAvatarURL
      self.unreadTotal = unreadTotal
      self.isStale = isStale
    }
  }

  /// Claims due rows for one worker (others skip them: `FOR UPDATE SKIP LOCKED`) and pushes
  /// their next attempt `lease` into the future, so a crashed worker's rows come back by
  /// themselves. One round trip returns the rows with their message, names and badge.
  public func claim(limit: Int, lease: Duration = .seconds(60)) async throws -> [Item] {
    let seconds = lease.timeInterval
    return try await pool.query(
      """
      WITH claimed AS (
        UPDATE push_outbox SET attempts = attempts + 1,
          next_attempt_at = now() + make_interval(secs => \(seconds))
        WHERE id IN (
          SELECT id FROM push_outbox WHERE failed_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, user_id, room_id, message_id, actor_id, seq, attempts,
          idempotency_key)
      SELECT c.id, c.kind, c.user_id, c.idempotency_key::text AS idempotency_key, c.attempts,
        c.room_id::text AS room_id, c.message_id::text AS message_id,
        COALESCE(msg.body, '') AS body, COALESCE(s.display_name, '') AS sender_name,
        CASE WHEN r.kind = 2 THEN COALESCE(r.title, '') END AS group_title,
        c.actor_id, COALESCE(a.display_name, '') AS actor_name,
        COALESCE(a.avatar_url, '') AS actor_avatar,
        (SELECT COALESCE(sum(chat_unread(x.room_id, x.user_id, x.last_read_seq)), 0)
          FROM room_members x WHERE x.user_id = c.user_id) AS unread_total,
        c.kind = 1 AND (msg.id IS NULL OR msg.deleted_at IS NOT NULL OR m.user_id IS NULL
          OR m.muted OR GREATEST(m.last_delivered_seq, m.last_read_seq) >= c.seq) AS stale
      FROM claimed c
      LEFT JOIN messages msg ON msg.id = c.message_id
      LEFT JOIN users s ON s.id = msg.sender_id
      LEFT JOIN rooms r ON r.id = c.room_id
      LEFT JOIN room_members m ON m.room_id = c.room_id AND m.user_id = c.user_id
      LEFT JOIN users a ON a.id = c.actor_id
      ORDER BY c.id
      """
    ).rows.map { row in
      Item(
        id: try row.decode("id"),
        kind: Item.Kind(rawValue: try row.decode("kind")) ?? .message,
        userID: try row.decode("user_id"), idempotencyKey: try row.decode("idempotency_key"),
        attempts: try row.decode("attempts"), roomID: try row.decode("room_id"),
        messageID: try row.decode("message_id"), body: try row.decode("body"),
        senderName: try row.decode("sender_name"), groupTitle: try row.decode("group_title"),
        actorID: try row.decode("actor_id"), actorName: try row.decode("actor_name"),
        actorAvatarURL: try row.decode("actor_avatar"),
        unreadTotal: try row.decode("unread_total"), isStale: try row.decode("stale"))
    }
  }

  /// The push went out, or is no longer needed: the row goes.
  public func complete(id: Int64) async throws {
    _ = try await pool.query("DELETE FROM push_outbox WHERE id = \(id)")
  }

  /// The attempt failed and may be retried after `delay`; `error` is kept for operators.
  public func retry(id: Int64, after delay: Duration, error: String) async throws {
    _ = try await pool.query(
      """
      UPDATE push_outbox SET last_error = \(error),
        next_attempt_at = now() + make_interval(secs => \(delay.timeInterval))
      WHERE id = \(id)
      """)
  }

  /// The push is given up: the row stays with its reason, out of the worker's way.
  public func giveUp(id: Int64, reason: String) async throws {
    _ = try await pool.query(
      "UPDATE push_outbox SET last_error = \(reason), failed_at = now() WHERE id = \(id)")
  }

  /// Removes given-up rows older than `age`.
  @discardableResult
  public func pruneFailed(olderThan age: Duration) async throws -> Int {
    try await pool.query(
      """
      DELETE FROM push_outbox
      WHERE failed_at < now() - make_interval(secs => \(age.timeInterval))
      """
    ).affectedRows
  }

  /// Pending rows and the age in seconds of the oldest (0 when none), for the gauges.
  public func backlog() async throws -> (pending: Int, oldestAge: Double) {
    let row = try await pool.query(
      """
      SELECT count(*) AS pending,
        COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
      FROM push_outbox WHERE failed_at IS NULL
      """
    ).first
    return (try row?.decode("pending") ?? 0, try row?.decode("oldest") ?? 0)
  }
}
