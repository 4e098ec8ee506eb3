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
  /// What SubscribeRoom checks before it subscribes.
  public struct SubscriptionCheck: Sendable {
    /// The room's last seq.
    public var lastSeq: Int64
    /// The seq below which the room's events were pruned (0: none).
    public var prunedSeq: Int64
    /// Whether the user is a member.
    public var isMember: Bool
  }

  struct SubscriptionKey: Hashable, Sendable {
    var room: String
    var user: String
  }

  typealias SubscriptionChecks = ReadCoalescer<SubscriptionKey, SubscriptionCheck>

  /// The store's one coalescer of subscription checks: two queries at most in flight (the
  /// rest of the pool stays free for sends), up to 1,000 checks each.
  static func subscriptionChecks(pool: PostgresPool) -> SubscriptionChecks {
    SubscriptionChecks(maxInFlight: 2, maxBatch: 1_000) { keys in
      let rows = try await pool.query(
        """
        SELECT x.n, r.last_seq, r.pruned_seq, EXISTS (
          SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = x.user_id) AS member
        FROM unnest(\(keys.map(\.room))::uuid[], \(keys.map(\.user))::text[])
          WITH ORDINALITY AS x (room_id, user_id, n)
        JOIN rooms r ON r.id = x.room_id
        """
      ).rows
      var checks: [SubscriptionKey: SubscriptionCheck] = [:]
      for row in rows {
        let index: Int = try row.decode("n")
        checks[keys[index - 1]] = SubscriptionCheck(
          lastSeq: try row.decode("last_seq"), prunedSeq: try row.decode("pruned_seq"),
          isMember: try row.decode("member"))
      }
      return checks
    }
  }

  /// What SubscribeRoom checks before it subscribes, in one query shared with the other
  /// subscriptions of a burst; nil when there is no such room.
  public func subscriptionCheck(roomID: String, user: String) async throws -> SubscriptionCheck? {
    guard let room = try? uuid(roomID) else { return nil }
    return try await subscriptionChecks.value(for: SubscriptionKey(room: room, user: user))
  }
}
