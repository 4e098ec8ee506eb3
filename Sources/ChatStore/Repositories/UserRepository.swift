import Foundation

/// Users: created from token claims, profiles, deletion.
public struct UserRepository: Sendable {
  let pool: PostgresPool

  /// Creates the user or refreshes name and avatar from the claims; writes nothing when
  /// they are unchanged. One round trip (a pipeline).
  public func upsert(id: String, displayName: String, avatarURL: String) async throws
    -> UserProfile
  {
    let results = try await pool.execute([
      """
      INSERT INTO users (id, display_name, avatar_url) VALUES (\(id), \(displayName), \(avatarURL))
      ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
        avatar_url = EXCLUDED.avatar_url, updated_at = now()
      WHERE users.display_name IS DISTINCT FROM EXCLUDED.display_name
        OR users.avatar_url IS DISTINCT FROM EXCLUDED.avatar_url
      """,
      "SELECT \(unsafeSQL: UserProfile.columns) FROM users u WHERE u.id = \(id)",
    ])
    guard let row = results[1].first else { throw StoreError(.internalError) }
    return try UserProfile(row: row)
  }

  /// The profile, or nil when there is no such user.
  public func get(id: String) async throws -> UserProfile? {
    try await pool.query(
      "SELECT \(unsafeSQL: UserProfile.columns) FROM users u WHERE u.id = \(id)"
    ).first.map(UserProfile.init(row:))
  }

  /// Changes the given fields (nil keeps a field); throws `.notFound` for an unknown user.
  public func update(id: String, displayName: String?, avatarURL: String?) async throws
    -> UserProfile
  {
    let results = try await pool.execute([
      """
      UPDATE users SET display_name = COALESCE(\(displayName), display_name),
        avatar_url = COALESCE(\(avatarURL), avatar_url), updated_at = now()
      WHERE id = \(id)
      """,
      "SELECT \(unsafeSQL: UserProfile.columns) FROM users u WHERE u.id = \(id)",
    ])
    guard let row = results[1].first else { throw StoreError(.notFound) }
    return try UserProfile(row: row)
  }

  /// Deletes the user: memberships (with member_left events), follows, notifications, pushes
  /// and presence go; their messages become tombstones. False when there was no such user.
  public func delete(id: String) async throws -> Bool {
    try await pool.query("SELECT chat_delete_user(\(id)) AS deleted").first!.decode("deleted")
  }
}
