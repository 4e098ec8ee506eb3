import Foundation

/// Push rows written in the message transaction for offline recipients.
public struct OutboxRepository: Sendable {
  let pool: PostgresPool

  public struct Item: Sendable, Hashable {
    public var id: Int64
    public var userID: String
    public var roomID: String
    public var messageID: String
    public var attempts: Int
  }

  /// Claims due rows for one worker (others skip them) and pushes their next attempt
  /// `retryAfter` into the future, so a crashed worker's rows come back by themselves.
  public func claim(limit: Int, retryAfter: Duration = .seconds(60)) async throws -> [Item] {
    let seconds = retryAfter.timeInterval
    return try await pool.query(
      """
      UPDATE push_outbox SET attempts = attempts + 1,
        next_attempt_at = now() + make_interval(secs => \(seconds))
      WHERE id IN (SELECT id FROM push_outbox WHERE next_attempt_at <= now()
        ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
      RETURNING id, user_id, room_id::text AS room_id, message_id::text AS message_id, attempts
      """
    ).rows.map { row in
      Item(
        id: try row.decode("id"), userID: try row.decode("user_id"),
        roomID: try row.decode("room_id"), messageID: try row.decode("message_id"),
        attempts: try row.decode("attempts"))
    }
  }

  /// The push went out (or is abandoned): the row goes.
  public func complete(id: Int64) async throws {
    _ = try await pool.query("DELETE FROM push_outbox WHERE id = \(id)")
  }

  /// The push failed; the row stays for its next attempt. `error` is kept for operators.
  public func fail(id: Int64, error: String) async throws {
    _ = try await pool.query("UPDATE push_outbox SET last_error = \(error) WHERE id = \(id)")
  }
}
