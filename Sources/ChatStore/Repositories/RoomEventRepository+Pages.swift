/// What the real-time layer reads: pages of room events with their details, in one round trip.
extension RoomEventRepository {
  /// SubscribeRoom's replay and the hub's reads: the events with seq > `seq`, in order, with
  /// the messages and users they concern. One pipelined round trip; each statement selects
  /// the same first `limit` events (a committed seq never changes).
  public func page(roomID: String, after seq: Int64, limit: Int) async throws -> RoomEventPage {
    let room = try uuid(roomID)
    let events: PostgresQuery = """
      SELECT \(unsafeSQL: RoomEvent.columns) FROM room_events
      WHERE room_id = \(room)::uuid AND seq > \(seq) ORDER BY seq LIMIT \(limit)
      """
    let results = try await pool.execute(
      [events]
        + Self.details(
          messages: """
            SELECT message_id FROM (SELECT message_id FROM room_events
              WHERE room_id = \(room)::uuid AND seq > \(seq) ORDER BY seq LIMIT \(limit)) e
            WHERE message_id IS NOT NULL
            """,
          subjects: """
            SELECT subject_user_id FROM (SELECT kind, subject_user_id FROM room_events
              WHERE room_id = \(room)::uuid AND seq > \(seq) ORDER BY seq LIMIT \(limit)) e
            WHERE kind IN (7, 8)
            """, rooms: "SELECT \(room)::uuid"))
    return try RoomEventPage(
      events: try results[0].rows.map(RoomEvent.init(row:)), details: results.dropFirst())
  }

  /// The details of events already read (the firehose's, whose selection depends on the
  /// snapshot and so cannot be repeated in a second statement).
  public func details(of events: [RoomEvent]) async throws -> RoomEventPage {
    let messageIDs = events.compactMap(\.messageID)
    let subjects = events.filter { $0.kind == .memberJoined || $0.kind == .memberLeft }
    let subjectIDs = subjects.compactMap(\.subjectUserID)
    let roomIDs = Array(Set(subjects.map(\.roomID)))
    let results = try await pool.execute(
      Self.details(
        messages: "SELECT unnest(\(messageIDs)::uuid[])",
        subjects: "SELECT unnest(\(subjectIDs)::text[])",
        rooms: "SELECT unnest(\(roomIDs)::uuid[])"))
    return try RoomEventPage(events: events, details: results[...])
  }

  /// The last seq of each existing room among `roomIDs`.
  public func lastSeqs(roomIDs: [String]) async throws -> [String: Int64] {
    let ids = roomIDs.compactMap { try? uuid($0) }
    let rows = try await pool.query(
      "SELECT id::text AS id, last_seq FROM rooms WHERE id = ANY (\(ids)::uuid[])"
    ).rows
    return Dictionary(
      try rows.map {
        (try $0.decode("id", as: String.self), try $0.decode("last_seq", as: Int64.self))
      },
      uniquingKeysWith: { first, _ in first })
  }

  /// Room activity for users' live streams: the messages created by the events (room, seq)
  /// listed, with the unread count of each of `users` who is a member of the room.
  public func activity(events: [(roomID: String, seq: Int64)], users: [String]) async throws
    -> [RoomActivity]
  {
    let rooms = try events.map { try uuid($0.roomID) }
    let seqs = events.map { String($0.seq) }
    let results = try await pool.execute([
      """
      SELECT * FROM chat_messages(NULL, ARRAY(
        SELECT e.message_id FROM unnest(\(rooms)::uuid[], \(seqs)::bigint[]) AS x (room, seq)
        JOIN room_events e ON e.room_id = x.room AND e.seq = x.seq WHERE e.kind = 1))
      """,
      """
      SELECT room_id::text AS room_id, user_id,
        chat_unread(room_id, user_id, last_read_seq) AS unread
      FROM room_members
      WHERE room_id = ANY (\(rooms)::uuid[]) AND user_id = ANY (\(users)::text[])
      """,
    ])
    var unread: [String: [String: Int]] = [:]
    for row in results[1].rows {
      unread[try row.decode("room_id"), default: [:]][try row.decode("user_id")] =
        try row.decode("unread")
    }
    return try results[0].rows.map { row in
      let message = try Message(row: row)
      return RoomActivity(message: message, unreadCounts: unread[message.roomID] ?? [:])
    }
  }

  /// The three detail statements: messages by id, current memberships and profiles of users.
  private static func details(
    messages: PostgresQuery, subjects: PostgresQuery, rooms: PostgresQuery
  ) -> [PostgresQuery] {
    [
      "SELECT * FROM chat_messages(NULL, ARRAY(\(subquery: messages)))",
      """
      SELECT * FROM chat_members_of(ARRAY(\(subquery: rooms)), ARRAY(\(subquery: subjects)))
      """,
      """
      SELECT id, display_name, avatar_url FROM users WHERE id = ANY (ARRAY(\(subquery: subjects)))
      """,
    ]
  }
}

extension RoomEventRepository {
  /// The firehose position of "now": events of transactions still running or committed
  /// later follow it (a few that committed just before may too).
  public func firehoseNow() async throws -> FirehoseCursor {
    let xmin: String = try await pool.query(
      "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin"
    ).first.orNotFound().decode("xmin")
    return FirehoseCursor(xid: UInt64(xmin) ?? 0, id: 0)
  }
}
