import Foundation

/// Rooms and memberships. Authorization that depends on membership and roles is enforced in
/// the SQL functions: non-members get `.notFound`, insufficient roles `.permissionDenied`.
public struct RoomRepository: Sendable {
  let pool: PostgresPool
  let subscriptionChecks: SubscriptionChecks
  let announcer: RoomEventAnnouncer

  /// Gets or creates the direct room of two users; concurrent calls return one room.
  /// `.invalidInput` for oneself, `.notFound` for an unknown peer.
  public func startDirect(user: String, peer: String) async throws -> (room: Room, created: Bool) {
    let row = try await pool.query(
      "SELECT room_id::text, created FROM chat_start_direct(\(user), \(peer))"
    ).first!
    let room = try await self.room(id: try row.decode("room_id"), viewer: nil)
    return (try room.orNotFound().room, try row.decode("created"))
  }

  /// Creates a group owned by `owner`; unknown member ids fail the whole call with `.notFound`.
  public func createGroup(owner: String, title: String, members: [String]) async throws -> Room {
    let id: String = try await pool.query(
      "SELECT chat_create_group(\(owner), \(title), \(members)::text[])::text AS id"
    ).first!.decode("id")
    return try await room(id: id, viewer: nil).orNotFound().room
  }

  /// Adds users (owner or admin of a group); already-members are skipped.
  public func addMembers(roomID: String, actor: String, users: [String]) async throws -> Room {
    _ = try await pool.query(
      "SELECT chat_add_members(\(try uuid(roomID))::uuid, \(actor), \(users)::text[], true)")
    return try await room(id: roomID, viewer: nil).orNotFound().room
  }

  /// Removes a member; `actor == user` leaves. Returns false when the user was not a member.
  public func removeMember(roomID: String, actor: String, user: String, moderator: Bool = false)
    async throws -> Bool
  {
    try await pool.query(
      """
      SELECT chat_remove_member(\(try uuid(roomID))::uuid, \(actor), \(user), \(moderator)) AS changed
      """
    ).first!.decode("changed")
  }

  /// Renames a group (owner or admin).
  public func update(roomID: String, actor: String, title: String) async throws -> Room {
    _ = try await pool.query(
      "SELECT chat_update_room(\(try uuid(roomID))::uuid, \(actor), \(title))")
    return try await room(id: roomID, viewer: nil).orNotFound().room
  }

  /// Mutes or unmutes the caller's own membership.
  public func setMuted(roomID: String, user: String, muted: Bool) async throws -> Member {
    let results = try await pool.execute([
      """
      UPDATE room_members SET muted = \(muted)
      WHERE room_id = \(try uuid(roomID))::uuid AND user_id = \(user)
      """,
      "SELECT * FROM chat_members(ARRAY[\(roomID)::uuid]) WHERE user_id = \(user)",
    ])
    guard let row = results[1].first else { throw StoreError(.notFound) }
    return try Member(row: row)
  }

  /// The viewer's role in a room, nil when not a member (or no such room).
  public func role(roomID: String, user: String) async throws -> Member.Role? {
    guard let id = UUID(uuidString: roomID) else { return nil }
    return try await pool.query(
      "SELECT role FROM room_members WHERE room_id = \(id.uuidString)::uuid AND user_id = \(user)"
    ).first.flatMap { Member.Role(rawValue: Int16(try $0.decode("role", as: Int.self))) }
  }

  /// A room as the viewer sees it; nil when it does not exist or the viewer is not a member.
  /// A nil viewer (service role) sees any room, with unread count 0.
  public func room(id: String, viewer: String?) async throws -> RoomSummary? {
    guard let id = UUID(uuidString: id)?.uuidString.lowercased() else { return nil }
    let rows = try await pool.query(
      """
      SELECT \(unsafeSQL: Self.roomColumns) FROM rooms r
      LEFT JOIN room_members me ON me.room_id = r.id AND me.user_id = \(viewer)
      WHERE r.id = \(id)::uuid AND (\(viewer)::text IS NULL OR me.user_id IS NOT NULL)
      """
    ).rows
    return try await summaries(rows, viewer: viewer).first
  }

  /// Whether `text` has the form of a cursor `rooms(of:)` issues: services refuse others
  /// rather than let them read as the first page.
  public static func isWellFormedCursor(_ text: String) -> Bool { RoomCursor(text) != nil }

  /// The viewer's rooms, most recent activity first, `limit` per page.
  ///
  /// The page is sorted from all of the user's rooms, so its cost grows with how many rooms
  /// the user is in, never with the number of rooms. Each room is fetched by its primary key
  /// (the `OFFSET 0` keeps the lateral subquery from being flattened into a join): for a user
  /// in a thousand rooms a plain join made the planner hash the whole `rooms` table instead
  /// (docs/scaling.md).
  public func rooms(of user: String, limit: Int, after cursor: String? = nil) async throws
    -> Page<RoomSummary>
  {
    let position = cursor.flatMap(RoomCursor.init)
    let rows = try await pool.query(
      """
      SELECT \(unsafeSQL: Self.roomColumns) FROM room_members me
      CROSS JOIN LATERAL (SELECT * FROM rooms WHERE rooms.id = me.room_id OFFSET 0) r
      WHERE me.user_id = \(user)
        AND (\(position?.micros)::bigint IS NULL
          OR ((extract(epoch FROM r.last_activity_at) * 1000000)::bigint, r.id)
            < (\(position?.micros)::bigint, \(position?.id)::uuid))
      ORDER BY r.last_activity_at DESC, r.id DESC
      LIMIT \(limit + 1)
      """
    ).rows
    let pageRows = Array(rows.prefix(limit))
    let page = try await summaries(pageRows, viewer: user)
    let next =
      try rows.count > limit ? pageRows.last.map { try RoomCursor(row: $0).description } : nil
    return Page(items: page, nextCursor: next)
  }

  /// MarkRead: moves the read pointer forward only (never past the last seq), emits `read`,
  /// announced after the commit (migration 14).
  public func markRead(roomID: String, user: String, upTo seq: Int64) async throws
    -> (lastReadSeq: Int64, unreadCount: Int)
  {
    let room = try uuid(roomID)
    let row = try await pool.query(
      "SELECT * FROM chat_mark_read_unannounced(\(room)::uuid, \(user), \(seq))"
    ).first!
    if let event = try row.decode("event_seq", as: Int64?.self) {
      announcer.announce([(room, event)])
    }
    return (try row.decode("last_read_seq"), try row.decode("unread_count"))
  }

  /// Moves the delivered pointer forward (batched by the real-time layer), emits `delivered`.
  public func markDelivered(roomID: String, user: String, upTo seq: Int64) async throws -> Int64 {
    try await pool.query(
      "SELECT chat_mark_delivered(\(try uuid(roomID))::uuid, \(user), \(seq)) AS seq"
    ).first!.decode("seq")
  }

  static let roomColumns = """
    r.id::text AS id, r.kind,
    (extract(epoch FROM r.last_activity_at) * 1000000)::bigint AS activity_micros, r.title, r.last_seq, r.created_at, r.last_activity_at,
    r.last_message_id, COALESCE(chat_unread(r.id, me.user_id, me.last_read_seq), 0) AS unread
    """

  /// Adds members and last messages to room rows: one more round trip (a pipeline).
  private func summaries(_ rows: [PostgresRow], viewer: String?) async throws -> [RoomSummary] {
    guard !rows.isEmpty else { return [] }
    let ids: [String] = try rows.map { try $0.decode("id") }
    let lastIDs: [String] = try rows.compactMap {
      try $0.decode("last_message_id", as: String?.self)
    }
    let results = try await pool.execute([
      "SELECT * FROM chat_members(\(ids)::uuid[])",
      "SELECT * FROM chat_messages(\(viewer), \(lastIDs)::uuid[])",
    ])
    var members: [String: [Member]] = [:]
    for row in results[0].rows {
      members[try row.decode("room_id"), default: []].append(try Member(row: row))
    }
    var messages: [String: Message] = [:]
    for row in results[1].rows {
      let message = try Message(row: row)
      messages[message.id] = message
    }
    return try rows.map { row in
      let room = try Room(row: row, members: members[try row.decode("id")] ?? [])
      let last = try row.decode("last_message_id", as: String?.self).flatMap { messages[$0] }
      return RoomSummary(room: room, lastMessage: last, unreadCount: try row.decode("unread"))
    }
  }
}

/// ListRooms' position: the last room's activity time (microseconds) and id.
struct RoomCursor: CustomStringConvertible {
  var micros: Int64
  var id: String

  init(row: PostgresRow) throws {
    micros = try row.decode("activity_micros")
    id = try row.decode("id")
  }

  init?(_ text: String) {
    let parts = text.split(separator: "_")
    guard parts.count == 2, let micros = Int64(parts[0]), UUID(uuidString: String(parts[1])) != nil
    else { return nil }
    self.micros = micros
    self.id = String(parts[1])
  }

  var description: String { "\(micros)_\(id)" }
}

/// A well-formed UUID or `.notFound`: a malformed id names nothing.
func uuid(_ text: String) throws -> String {
  guard let id = UUID(uuidString: text) else { throw StoreError(.notFound) }
  return id.uuidString.lowercased()
}

extension Optional {
  func orNotFound() throws -> Wrapped {
    guard let self else { throw StoreError(.notFound) }
    return self
  }
}
