/// The per-room event log: replay after a seq, and the firehose across rooms.
public struct RoomEventRepository: Sendable {
  let pool: PostgresPool

  /// SubscribeRoom's replay: events with seq > `seq`, in order. Only committed events are
  /// visible, and a seq commits only after every smaller one of its room (the room row lock).
  public func after(roomID: String, seq: Int64, limit: Int) async throws -> [RoomEvent] {
    try await pool.query(
      """
      SELECT \(unsafeSQL: RoomEvent.columns) FROM room_events
      WHERE room_id = \(try uuid(roomID))::uuid AND seq > \(seq) ORDER BY seq LIMIT \(limit)
      """
    ).rows.map(RoomEvent.init(row:))
  }

  /// The room's last seq, nil when there is no such room.
  public func lastSeq(roomID: String) async throws -> Int64? {
    try await pool.query(
      "SELECT last_seq FROM rooms WHERE id = \(try uuid(roomID))::uuid"
    ).first?.decode("last_seq")
  }

  /// The room's last seq and how far its log was pruned (`chat_prune_room_events`: events
  /// with seq <= `pruned` may be gone), nil when there is no such room.
  public func bounds(roomID: String) async throws -> (last: Int64, pruned: Int64)? {
    guard
      let row = try await pool.query(
        "SELECT last_seq, pruned_seq FROM rooms WHERE id = \(try uuid(roomID))::uuid"
      ).first
    else { return nil }
    return (try row.decode("last_seq"), try row.decode("pruned_seq"))
  }

  /// SubscribeAllRooms: events after `cursor` in (transaction id, row id) order, only from
  /// transactions older than this snapshot's xmin, so none can still commit before them;
  /// resuming from the last event's cursor loses nothing and repeats nothing.
  public func firehose(after cursor: FirehoseCursor, roomIDs: [String] = [], limit: Int)
    async throws -> [RoomEvent]
  {
    let rooms = try roomIDs.map { try uuid($0) }
    return try await pool.query(
      """
      SELECT \(unsafeSQL: RoomEvent.columns), xid::text AS xid_text, id FROM room_events
      WHERE (xid, id) > (\(String(cursor.xid))::xid8, \(cursor.id))
        AND xid < pg_snapshot_xmin(pg_current_snapshot())
        AND (cardinality(\(rooms)::uuid[]) = 0 OR room_id = ANY (\(rooms)::uuid[]))
      ORDER BY xid, id LIMIT \(limit)
      """
    ).rows.map { row in
      var event = try RoomEvent(row: row)
      event.cursor = FirehoseCursor(xid: try row.decode("xid_text"), id: try row.decode("id"))
      return event
    }
  }
}
