import Foundation

/// Messages: the durable append, history pages, edits, deletes, reactions, search.
public struct MessageRepository: Sendable {
  let pool: PostgresPool
  let appends: AppendBatcher

  /// SendMessage, through the group commit (`AppendBatcher`): one round trip, one
  /// transaction shared with the sends queued behind it in any room (next seq under the room
  /// lock, the message, its room event, room activity, the sender's read pointer, push rows
  /// for offline members; announced by its commit). Idempotent on (sender, clientMsgID): a retry returns the original with
  /// `created == false`. `.notFound` for non-members, `.invalidInput` for a reply-to outside
  /// the room.
  public func send(
    roomID: String, sender: String, clientMsgID: String, body: String, replyTo: String? = nil
  ) async throws -> (message: Message, created: Bool) {
    try await appends.append(
      AppendBatcher.Send(
        roomID: try uuid(roomID), sender: sender, clientMsgID: clientMsgID, body: body,
        replyTo: try replyTo.map { try uuid($0) }))
  }

  /// One message as `viewer` sees it, nil when missing or the viewer is not a member
  /// (a nil viewer, the service role, sees every message).
  public func message(id: String, viewer: String?) async throws -> Message? {
    guard let id = UUID(uuidString: id)?.uuidString.lowercased() else { return nil }
    return try await pool.query(
      """
      SELECT v.* FROM chat_messages(\(viewer), ARRAY[\(id)::uuid]) v
      WHERE \(viewer)::text IS NULL OR EXISTS (
        SELECT 1 FROM room_members WHERE room_id = v.room_id AND user_id = \(viewer))
      """
    ).first.map(Message.init(row:))
  }

  /// A page of history in ascending seq order: the `limit` messages before `beforeSeq`, after
  /// `afterSeq`, or the latest; `hasMore` says whether more lie beyond in that direction.
  /// Membership is the caller's check (`RoomRepository.role`), or see `visiblePage`.
  public func messages(
    roomID: String, viewer: String?, beforeSeq: Int64? = nil, afterSeq: Int64? = nil, limit: Int
  ) async throws -> (messages: [Message], hasMore: Bool) {
    let query = Self.pageQuery(
      room: try uuid(roomID), viewer: viewer, beforeSeq: beforeSeq, afterSeq: afterSeq,
      limit: limit)
    return try Self.page(try await pool.query(query), afterSeq: afterSeq, limit: limit)
  }

  /// GetMessages in one round trip: `messages`'s page and the check that the caller may read
  /// the room, in one pipeline and one implicit transaction (each statement sees what was
  /// committed when it started: the check, then the page). Nil when it may not: `viewer` is
  /// not a member, or, for a service (`asService`, which reads any room), the room does not
  /// exist.
  public func visiblePage(
    roomID: String, viewer: String, asService: Bool, beforeSeq: Int64? = nil,
    afterSeq: Int64? = nil, limit: Int
  ) async throws -> (messages: [Message], hasMore: Bool)? {
    let room = try uuid(roomID)
    let results = try await pool.execute([
      Self.visibility(of: room, to: viewer, asService: asService),
      Self.pageQuery(
        room: room, viewer: viewer, beforeSeq: beforeSeq, afterSeq: afterSeq, limit: limit),
    ])
    guard results[0].first != nil else { return nil }
    return try Self.page(results[1], afterSeq: afterSeq, limit: limit)
  }

  /// One row when `viewer` may read `room` (a parsed UUID, `uuid(_:)`): a member, or for a
  /// service (which reads any room) a room that exists. Sent in the pipeline of the read it
  /// guards, so the check costs no round trip of its own.
  private static func visibility(of room: String, to viewer: String, asService: Bool)
    -> PostgresQuery
  {
    asService
      ? "SELECT 1 FROM rooms WHERE id = \(room)::uuid"
      : "SELECT 1 FROM room_members WHERE room_id = \(room)::uuid AND user_id = \(viewer)"
  }

  /// One more row than the page holds, so that `page` can tell whether more lie beyond.
  /// `room` is a parsed UUID (`uuid(_:)`).
  private static func pageQuery(
    room: String, viewer: String?, beforeSeq: Int64?, afterSeq: Int64?, limit: Int
  ) -> PostgresQuery {
    afterSeq != nil
      ? """
      SELECT * FROM chat_messages(\(viewer), ARRAY(SELECT id FROM messages
        WHERE room_id = \(room)::uuid AND seq > \(afterSeq ?? 0) ORDER BY seq LIMIT \(limit + 1)))
      """
      : """
      SELECT * FROM chat_messages(\(viewer), ARRAY(SELECT id FROM messages
        WHERE room_id = \(room)::uuid AND seq < \(beforeSeq ?? Int64.max)
        ORDER BY seq DESC LIMIT \(limit + 1)))
      """
  }

  private static func page(_ result: PostgresResult, afterSeq: Int64?, limit: Int) throws
    -> (messages: [Message], hasMore: Bool)
  {
    var page = try result.rows.map(Message.init(row:))
    let hasMore = page.count > limit
    if hasMore { page = afterSeq != nil ? Array(page.prefix(limit)) : Array(page.suffix(limit)) }
    return (page, hasMore)
  }

  /// EditMessage: the sender only (`.permissionDenied` otherwise); emits `message_updated`.
  public func edit(id: String, user: String, body: String) async throws -> Message {
    try await change(id: id, user: user, body: body, delete: false, moderator: false)
  }

  /// DeleteMessage: the sender, a room owner/admin, or a moderator; returns the tombstone.
  public func delete(id: String, user: String, moderator: Bool = false) async throws -> Message {
    try await change(id: id, user: user, body: nil, delete: true, moderator: moderator)
  }

  private func change(id: String, user: String, body: String?, delete: Bool, moderator: Bool)
    async throws -> Message
  {
    let message = try uuid(id)
    let results = try await pool.execute([
      "SELECT chat_change_message(\(message)::uuid, \(user), \(body), \(delete), \(moderator))",
      "SELECT * FROM chat_messages(\(user), ARRAY[\(message)::uuid])",
    ])
    return try Message(row: results[1].first.orNotFound())
  }

  /// AddReaction / RemoveReaction; emits `reaction_changed` when something changed.
  public func react(messageID: String, user: String, emoji: String, add: Bool) async throws
    -> (message: Message, changed: Bool)
  {
    let message = try uuid(messageID)
    let results = try await pool.execute([
      "SELECT chat_react(\(message)::uuid, \(user), \(emoji), \(add)) AS changed",
      "SELECT * FROM chat_messages(\(user), ARRAY[\(message)::uuid])",
    ])
    return (
      try Message(row: results[1].first.orNotFound()),
      try results[0].first.orNotFound().decode("changed")
    )
  }

  /// Full-text search over the rooms `user` belongs to (or one of them), best match first.
  /// Pages are offsets (`after` is the next offset as text). With `roomID`, nil when the
  /// caller may not read that room (`visibility`, in the search's round trip): a member, or
  /// a service (which reads any room) naming a room that exists.
  public func search(
    user: String, query: String, roomID: String? = nil, asService: Bool = false, limit: Int,
    after cursor: String? = nil
  ) async throws -> Page<Message>? {
    let room = try roomID.map { try uuid($0) }
    let offset = cursor.flatMap { Int($0) } ?? 0
    // The rooms searched: the one named (whose visibility is checked beside the search), or
    // every room the caller belongs to.
    let rooms: PostgresQuery =
      room.map { "SELECT \($0)::uuid" }
      ?? "SELECT room_id FROM room_members WHERE user_id = \(user)"
    let search: PostgresQuery = """
      WITH hits AS (
        SELECT m.id, ts_rank(m.search, q) AS rank, m.seq
        FROM messages m, websearch_to_tsquery('simple', \(query)) q
        WHERE m.search @@ q AND m.deleted_at IS NULL AND m.room_id IN (\(subquery: rooms))
        ORDER BY rank DESC, m.seq DESC, m.id
        OFFSET \(offset) LIMIT \(limit + 1))
      SELECT v.* FROM chat_messages(\(user), ARRAY(SELECT id FROM hits)) v
      JOIN hits h ON h.id = v.id ORDER BY h.rank DESC, h.seq DESC, h.id
      """
    let rows: [PostgresRow]
    if let room {
      let results = try await pool.execute([
        Self.visibility(of: room, to: user, asService: asService), search,
      ])
      guard results[0].first != nil else { return nil }
      rows = results[1].rows
    } else {
      rows = try await pool.query(search).rows
    }
    let items = try rows.prefix(limit).map(Message.init(row:))
    return Page(items: items, nextCursor: rows.count > limit ? String(offset + limit) : nil)
  }
}
