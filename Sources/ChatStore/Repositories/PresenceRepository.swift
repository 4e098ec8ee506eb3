import Foundation

/// Presence across instances: each chatd holds a lease and counts its users' live streams.
public struct PresenceRepository: Sendable {
  let pool: PostgresPool

  /// Registers or renews this instance's lease.
  public func renewLease(instance: String, ttl: Duration) async throws {
    _ = try await pool.query(
      """
      INSERT INTO instances (id, lease_expires_at)
      VALUES (\(instance), now() + make_interval(secs => \(ttl.timeInterval)))
      ON CONFLICT (id) DO UPDATE SET lease_expires_at = EXCLUDED.lease_expires_at
      """)
  }

  /// A SubscribeUser stream opened on this instance.
  public func streamOpened(instance: String, user: String) async throws {
    _ = try await pool.query(
      """
      INSERT INTO presence (user_id, instance_id, streams) VALUES (\(user), \(instance), 1)
      ON CONFLICT (user_id, instance_id) DO UPDATE SET streams = presence.streams + 1
      """)
  }

  /// A SubscribeUser stream closed; the last one records `last_seen_at`.
  public func streamClosed(instance: String, user: String) async throws {
    _ = try await pool.execute([
      "DELETE FROM presence WHERE user_id = \(user) AND instance_id = \(instance) AND streams = 1",
      """
      UPDATE presence SET streams = streams - 1
      WHERE user_id = \(user) AND instance_id = \(instance) AND streams > 1
      """,
      "UPDATE users SET last_seen_at = now() WHERE id = \(user)",
    ])
  }

  /// Users among `users` with a live stream on an instance whose lease is current.
  public func online(_ users: [String]) async throws -> Set<String> {
    Set(
      try await pool.query(
        """
        SELECT DISTINCT p.user_id FROM presence p JOIN instances i ON i.id = p.instance_id
        WHERE p.user_id = ANY (\(users)::text[]) AND i.lease_expires_at > now()
        """
      ).rows.map { try $0.decode("user_id", as: String.self) })
  }

  /// Removes instances whose lease expired (their presence rows cascade); their users' last
  /// seen time becomes the lease's end. Returns how many instances were reaped.
  public func reapExpired() async throws -> Int {
    let results = try await pool.execute([
      """
      UPDATE users u SET last_seen_at = i.lease_expires_at
      FROM presence p JOIN instances i ON i.id = p.instance_id
      WHERE p.user_id = u.id AND i.lease_expires_at <= now()
      """,
      "DELETE FROM instances WHERE lease_expires_at <= now()",
    ])
    return results[1].affectedRows
  }
}

extension PresenceRepository {
  /// Ends this instance's lease at shutdown: its users' presence goes at once (last seen now).
  public func retire(instance: String) async throws {
    _ = try await pool.execute([
      """
      UPDATE users u SET last_seen_at = now() FROM presence p
      WHERE p.user_id = u.id AND p.instance_id = \(instance)
      """,
      "DELETE FROM instances WHERE id = \(instance)",
    ])
  }
}
