/// What the real-time layer writes and reads about memberships.
extension RoomRepository {
  /// One delivered pointer to move.
  public struct Delivery: Sendable, Hashable {
    public var roomID: String
    public var userID: String
    public var seq: Int64

    public init(roomID: String, userID: String, seq: Int64) {
      self.roomID = roomID
      self.userID = userID
      self.seq = seq
    }
  }

  /// Moves many delivered pointers in one transaction (forward only, current members only);
  /// rooms of at most `eventMaxMembers` members get a `delivered` event. Returns the pointers
  /// that moved.
  @discardableResult
  public func markDelivered(_ deliveries: [Delivery], eventMaxMembers: Int) async throws
    -> [Delivery]
  {
    let valid = deliveries.compactMap { delivery -> (String, Delivery)? in
      guard let room = try? uuid(delivery.roomID) else { return nil }
      return (room, delivery)
    }
    guard !valid.isEmpty else { return [] }
    return try await pool.query(
      """
      SELECT room_id::text AS room_id, user_id, last_delivered_seq FROM chat_mark_delivered_many(
        \(valid.map(\.0))::uuid[], \(valid.map(\.1.userID))::text[],
        \(valid.map { String($0.1.seq) })::bigint[],
        \(eventMaxMembers))
      """
    ).rows.map {
      Delivery(
        roomID: try $0.decode("room_id"), userID: try $0.decode("user_id"),
        seq: try $0.decode("last_delivered_seq"))
    }
  }

  /// The ids of the user's rooms.
  public func roomIDs(of user: String) async throws -> [String] {
    try await pool.query(
      "SELECT room_id::text AS room_id FROM room_members WHERE user_id = \(user)"
    ).rows.map { try $0.decode("room_id") }
  }
}

extension RoomRepository {
  /// What SubscribeRoom checks before it subscribes, in one query: the room's last seq, the
  /// seq below which its events were pruned, and whether `user` is a member; nil when there
  /// is no such room.
  public func subscriptionCheck(roomID: String, user: String) async throws
    -> (lastSeq: Int64, prunedSeq: Int64, isMember: Bool)?
  {
    guard let room = try? uuid(roomID) else { return nil }
    guard
      let row = try await pool.query(
        """
        SELECT r.last_seq, r.pruned_seq, EXISTS (
          SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = \(user)) AS member
        FROM rooms r WHERE r.id = \(room)::uuid
        """
      ).first
    else { return nil }
    return (try row.decode("last_seq"), try row.decode("pruned_seq"), try row.decode("member"))
  }
}
