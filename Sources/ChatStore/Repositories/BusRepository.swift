/// Ephemeral messages between chatd instances over NOTIFY: nothing is written.
public struct BusRepository: Sendable {
  let pool: PostgresPool

  /// The channel of typing events; payload "room_id:user_id:0|1".
  public static let typingChannel = "chat_typing"
  /// The channel of membership changes (written by chat_room_event); payload
  /// "kind:room_id:user_id", kind 7 joined, 8 left.
  public static let membershipsChannel = "chat_memberships"

  /// Tells every instance that `user` started or stopped typing in `roomID`.
  public func announceTyping(roomID: String, user: String, typing: Bool) async throws {
    let payload = "\(try uuid(roomID)):\(user):\(typing ? 1 : 0)"
    _ = try await pool.query("SELECT pg_notify(\(Self.typingChannel), \(payload))")
  }
}
