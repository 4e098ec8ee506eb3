/// Ephemeral messages between chatd instances over NOTIFY: nothing is written.
public struct BusRepository: Sendable {
  let pool: PostgresPool

  /// The channel of typing events; payload "room_id:user_id:0|1".
  public static let typingChannel = "chat_typing"
  /// The channel of membership changes (written by chat_room_event); payload
  /// "kind:room_id:user_id", kind 7 joined, 8 left.
  public static let membershipsChannel = "chat_memberships"

  /// Tells every instance that `user` started or stopped typing in `roomID`, when `user` is a
  /// member of it; false (and nothing announced) otherwise. The check and the notification are
  /// one statement: one round trip per SendTyping.
  public func announceTyping(roomID: String, user: String, typing: Bool) async throws -> Bool {
    let room = try uuid(roomID)
    let payload = "\(room):\(user):\(typing ? 1 : 0)"
    return try await pool.query(
      """
      SELECT pg_notify(\(Self.typingChannel), \(payload)) FROM room_members
      WHERE room_id = \(room)::uuid AND user_id = \(user)
      """
    ).first != nil
  }
}
