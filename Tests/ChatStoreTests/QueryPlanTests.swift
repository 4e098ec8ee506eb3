import Foundation
import Logging
import Synchronization
import Testing

@testable import ChatStore

/// Every hot query the services run stays on an index as the tables grow (docs/scaling.md).
///
/// The queries are not copied here: the test calls the repositories, and PostgreSQL's
/// auto_explain (loaded in every pool session, nested statements included, so the statements
/// inside the SQL functions count too) sends each executed plan back as a notice, with the
/// rows every node really read. The tables hold enough rows that a sequential scan would be
/// the planner's choice if no index fit.
///
/// The rule is "no growing table is read sequentially", judged on what ran: a Seq Scan node
/// that read at most `seqScanAllowance` rows passes. One plan needs this: the reaping of dead
/// instances (`PresenceRepository.reapExpired`, run with every lease renewal) hash-joins
/// `users` to the expired instances' presence rows; with no instance expired the hash is
/// empty and the scan stops after its first row. When an instance did die, the scan reads
/// every user once (docs/scaling.md, presence).
@Suite struct QueryPlanTests {
  /// Tables that grow with users, rooms and history. `instances` (one row per chatd) and
  /// `push_outbox` (empty here: push is off) are not among them.
  static let growingTables: Set<String> = [
    "users", "rooms", "room_members", "messages", "reactions", "room_events", "notifications",
    "presence",
  ]

  static let seqScanAllowance = 10

  /// Under PostgreSQL's default plan cache mode and under generic plans: each pool
  /// connection prepares its statements (`PreparedStatements`), and from a statement's sixth
  /// run PostgreSQL may keep one generic plan for it, made without the values.
  @Test(arguments: ["auto", "force_generic_plan"])
  func hotQueriesUseIndexes(planCacheMode: String) async throws {
    let plans = PlanLog()
    let store = try await Self.explainingStore(plans, settings: ["plan_cache_mode": planCacheMode])
    let rooms = try await Self.fill(store)
    plans.clear()

    let room = rooms[0]
    let other = rooms[1]
    // SendMessage (the group commit's function and the statements inside it), twice: alone and
    // with a reply-to.
    let sent = try await store.messages.send(
      roomID: room, sender: "u1", clientMsgID: "plan-1", body: "hello")
    _ = try await store.messages.send(
      roomID: room, sender: "u2", clientMsgID: "plan-2", body: "re", replyTo: sent.message.id)
    _ = try await store.messages.send(
      roomID: room, sender: "u1", clientMsgID: "plan-1", body: "hello")  // idempotent retry
    // GetMessages (with its visibility check, for a member and for a service): latest page,
    // an old page, a page after a seq; one message.
    _ = try await store.messages.visiblePage(
      roomID: room, viewer: "u1", asService: false, limit: 50)
    _ = try await store.messages.visiblePage(
      roomID: room, viewer: "u1", asService: true, beforeSeq: 20, limit: 10)
    _ = try await store.messages.messages(roomID: room, viewer: "u1", afterSeq: 40, limit: 10)
    _ = try await store.messages.message(id: sent.message.id, viewer: "u1")
    // SubscribeRoom: the check, the replay and the hub's pages.
    _ = try await store.rooms.subscriptionCheck(roomID: room, user: "u1")
    _ = try await store.rooms.role(roomID: room, user: "u1")
    _ = try await store.events.after(roomID: room, seq: 90, limit: 256)
    _ = try await store.events.page(roomID: room, after: 10, limit: 256)
    _ = try await store.events.lastSeq(roomID: room)
    _ = try await store.events.lastSeqs(roomIDs: [room, other])
    // Unread counts of users' live streams (room activity), ListRooms, GetRoom, MarkRead.
    _ = try await store.events.activity(events: [(room, 101)], users: ["u1", "u2", "u3"])
    _ = try await store.rooms.rooms(of: "u1", limit: 20)
    _ = try await store.rooms.room(id: room, viewer: "u1")
    _ = try await store.rooms.roomIDs(of: "u1")
    _ = try await store.rooms.markRead(roomID: room, user: "u3", upTo: 95)
    // Delivered pointers, batched.
    try await store.rooms.markDelivered(
      [.init(roomID: room, userID: "u4", seq: 99), .init(roomID: other, userID: "u12", seq: 80)],
      eventMaxMembers: 50)
    // The firehose, from the start and from now.
    _ = try await store.events.firehose(after: .start, limit: 100)
    let now = try await store.events.firehoseNow()
    _ = try await store.events.firehose(after: now, roomIDs: [room], limit: 100)
    // Notifications: a page, unread only, SubscribeUser's replay, last seqs, mark read.
    _ = try await store.notifications.list(user: "u1", limit: 20)
    _ = try await store.notifications.list(user: "u1", limit: 20, after: "10", unreadOnly: true)
    _ = try await store.notifications.after(user: "u1", seq: 5, limit: 256)
    _ = try await store.notifications.lastSeqs(users: ["u1", "u2"])
    _ = try await store.notifications.markRead(user: "u1", upTo: 10)
    // Presence: lease renewal and reaping, streams opening and closing, online lookups.
    try await store.presence.renewLease(instance: "i1", ttl: .seconds(15))
    _ = try await store.presence.reapExpired()
    try await store.presence.streamOpened(instance: "i1", user: "u2")
    try await store.presence.streamClosed(instance: "i1", user: "u2")
    _ = try await store.presence.online(["u1", "u2", "u3"])

    let captured = plans.all()
    #expect(captured.count > 30, "auto_explain reported \(captured.count) plans")
    var indexed: Set<String> = []
    for plan in captured {
      for scan in plan.scans {
        if scan.node == "Seq Scan", Self.growingTables.contains(scan.relation),
          scan.rowsRead > Self.seqScanAllowance
        {
          Issue.record(
            "Seq Scan on \(scan.relation) read \(scan.rowsRead) rows in: \(plan.query)")
        } else if scan.node != "Seq Scan" {
          indexed.insert(scan.relation)
        }
      }
    }
    // The plans really were read: every growing table was reached through an index.
    #expect(indexed.isSuperset(of: Self.growingTables), "index scans on \(indexed.sorted())")
  }

  /// The batch append's statements run inside functions, where a session plans them
  /// generically after their fifth call and keeps that plan while the tables grow (until an
  /// ANALYZE): a plan made while the tables were small must still probe indexes once they are
  /// large. Joins of a batch's arrays (estimated at 100 rows or more) against a table are the
  /// risk: the read-back written as a join hashed the sends and read every message. So one
  /// session plans every statement generically (`plan_cache_mode`) on nearly empty tables,
  /// with push on so that the push rows' statement runs too, and PostgreSQL's default
  /// `random_page_cost`; then the tables are filled (without ANALYZE, which would replace the
  /// plans) and the same session appends again; the rule is the one above.
  @Test func batchAppendKeepsIndexesOnPlansMadeWhenTablesWereSmall() async throws {
    let plans = PlanLog()
    let database = try await TestCluster.freshDatabase()
    try await Store.migrate(
      PostgresPool.Configuration(conninfo: database.conninfo, database: database.database))
    let store = try await Self.explainingStore(
      plans, database: database, connections: 1,
      settings: [
        "plan_cache_mode": "force_generic_plan", "chatd.push_grace_ms": "3000",
        // PostgreSQL's default: with the SSD value the planner probes indexes even in tiny
        // tables and the join above would not show.
        "random_page_cost": "4",
      ])
    let batch = { (room: String, sends: [(String, String, String?)]) in
      await store.messages.appends.execute(
        sends.map {
          AppendBatcher.Send(
            roomID: room, sender: $0.0, clientMsgID: $0.1, body: "x", replyTo: $0.2)
        })
    }
    try await store.makeUsers("g1", "g2")
    let small = try await store.rooms.createGroup(owner: "g1", title: "g", members: ["g2"]).id
    let first = try await batch(small, [("g1", "s-1", nil), ("g2", "s-2", nil)])[0].get()
    _ = await batch(small, [("g2", "s-3", first.message.id), ("g1", "s-1", nil)])

    // Out of the way of the fill, which derives room events from every message.
    _ = try await store.pool.query("DELETE FROM rooms WHERE id = \(small)::uuid")
    let filler = try await Self.explainingStore(plans, database: database)
    let rooms = try await Self.fill(filler, analyze: false)
    filler.pool.shutdown()
    let sent = try await store.messages.send(
      roomID: rooms[0], sender: "u1", clientMsgID: "g-0", body: "hello")
    plans.clear()
    let outcomes = await batch(
      rooms[0],
      [("u1", "g-1", nil), ("u2", "g-2", sent.message.id), ("u1", "g-1", nil), ("u1", "g-0", nil)])
    #expect(outcomes.map { (try? $0.get())?.created } == [true, true, false, false])

    let captured = plans.all()
    #expect(captured.count > 5, "auto_explain reported \(captured.count) plans")
    for plan in captured {
      for scan in plan.scans
      where scan.node == "Seq Scan" && Self.growingTables.contains(scan.relation)
        && scan.rowsRead > Self.seqScanAllowance
      {
        Issue.record("Seq Scan on \(scan.relation) read \(scan.rowsRead) rows in: \(plan.query)")
      }
    }
  }

  /// A store on a fresh, migrated database (or `database`) whose sessions load auto_explain,
  /// with `settings` on top, of at most `connections` sessions.
  static func explainingStore(
    _ plans: PlanLog, database: PostgresConnection.Configuration? = nil, connections: Int = 2,
    settings: [String: String] = [:]
  ) async throws -> Store {
    var connection = database
    if connection == nil { connection = try await TestCluster.freshDatabase() }
    var configuration = PostgresPool.Configuration(
      conninfo: connection!.conninfo, database: connection!.database)
    if database == nil { try await Store.migrate(configuration) }
    configuration.maxConnections = connections
    configuration.statementTimeout = .seconds(60)
    configuration.settings = [
      "session_preload_libraries": "auto_explain",
      "auto_explain.log_min_duration": "0",
      "auto_explain.log_nested_statements": "on",
      "auto_explain.log_format": "json",
      "auto_explain.log_level": "notice",
      "auto_explain.log_analyze": "on",
      "auto_explain.log_timing": "off",
      // SSD storage, as docs/scaling.md recommends for production: with the default 4 (a
      // spinning disk's seek) the planner hashes whole tables for a page of rooms' members
      // at this test's scale.
      "random_page_cost": "1.1",
    ].merging(settings) { _, new in new }
    configuration.noticeHandler = { plans.add($0) }
    let logger = Logger(label: "test")
    return Store(
      pool: PostgresPool(configuration: configuration, logger: logger),
      listener: NotificationListener(configuration: configuration, logger: logger),
      cluster: nil, logger: logger)
  }

  /// 30,000 users, the first 1,500 each in two of 300 group rooms of ten members (u1 in all
  /// of them), the others in 14,250 direct rooms of two; 100 messages and events per room (30,000 each), a reaction on every third message, 20 notifications
  /// per member, and a tenth of the users online on three instances. Consistent with the schema's invariants:
  /// gap-free seqs up to rooms.last_seq, events for messages, notification_seq per user.
  /// Returns the ids of the first two rooms (u1 is in the first, u12 in the second).
  /// `analyze: false` leaves the statistics (and so the sessions' cached plans) as they were.
  static func fill(_ store: Store, analyze: Bool = true) async throws -> [String] {
    try await store.pool.withConnection { connection in
      try await connection.run(
        unsafeSQL: """
          SET session_replication_role = replica; -- no per-row FK checks: the rows are consistent
          INSERT INTO users (id, display_name, notification_seq)
            SELECT 'u' || u, 'User ' || u, CASE WHEN u <= 1500 THEN 20 ELSE 0 END
            FROM generate_series(1, 30000) u;
          INSERT INTO rooms (id, kind, title, last_seq, last_message_id, last_activity_at)
            SELECT md5('room' || r)::uuid, 2, 'room ' || r, 100, md5('msg' || r || ':100')::uuid,
              now() - r * interval '1 minute'
            FROM generate_series(1, 300) r;
          INSERT INTO room_members (room_id, user_id, role, last_read_seq, last_delivered_seq)
            SELECT md5('room' || r)::uuid, 'u' || (((r - 1) * 10 + k) % 1500 + 1),
              CASE WHEN k = 0 THEN 1 ELSE 3 END, 50, 50
            FROM generate_series(1, 300) r, generate_series(0, 9) k;
          -- Most rooms are direct chats: one between each pair of the users past 1,500, no
          -- messages yet. With only the 300 groups, generic plans rightly read all of rooms.
          INSERT INTO rooms (id, kind, direct_user_low, direct_user_high, last_activity_at)
            SELECT md5('direct' || d)::uuid, 1, LEAST(a, b), GREATEST(a, b),
              now() - interval '1 day'
            FROM generate_series(1, 14250) d,
              LATERAL (SELECT 'u' || (1499 + 2 * d) AS a, 'u' || (1500 + 2 * d) AS b) p;
          INSERT INTO room_members (room_id, user_id, role)
            SELECT md5('direct' || d)::uuid, 'u' || (1499 + 2 * d + k), 3
            FROM generate_series(1, 14250) d, generate_series(0, 1) k;
          -- u1 is in every room: ListRooms of a user in many rooms.
          INSERT INTO room_members (room_id, user_id, role, last_read_seq, last_delivered_seq)
            SELECT md5('room' || r)::uuid, 'u1', 3, 50, 50 FROM generate_series(1, 300) r
            ON CONFLICT DO NOTHING;
          INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, created_at)
            SELECT md5('msg' || r || ':' || s)::uuid, md5('room' || r)::uuid, s,
              'u' || (((r - 1) * 10 + s % 10) % 1500 + 1), 'c' || r || ':' || s, 'message ' || s,
              now() - (101 - s) * interval '1 second'
            FROM generate_series(1, 300) r, generate_series(1, 100) s;
          INSERT INTO room_events (room_id, seq, kind, actor_id, message_id, created_at)
            SELECT room_id, seq, 1, sender_id, id, created_at FROM messages;
          INSERT INTO reactions (message_id, user_id, emoji)
            SELECT id, sender_id, '+1' FROM messages WHERE seq % 3 = 0;
          INSERT INTO notifications (user_id, seq, kind, actor_id, deep_link)
            SELECT 'u' || u, n, 1, 'u' || (u % 1500 + 1), ''
            FROM generate_series(1, 1500) u, generate_series(1, 20) n;
          INSERT INTO instances (id, lease_expires_at)
            SELECT 'i' || i, now() + interval '1 hour' FROM generate_series(1, 3) i;
          INSERT INTO presence (user_id, instance_id, streams)
            SELECT 'u' || u, 'i' || (u % 3 + 1), 1 FROM generate_series(1, 30000, 10) u;
          RESET session_replication_role;
          """ + (analyze ? "ANALYZE;" : ""))
    }
    return try await store.pool.query(
      "SELECT md5('room' || r)::uuid::text AS id FROM generate_series(1, 2) r ORDER BY r"
    ).rows.map { try $0.decode("id") }
  }
}

/// The plans auto_explain sent, parsed from its notices ("duration: … ms  plan:\n{json}").
final class PlanLog: Sendable {
  struct Scan {
    var node: String
    var relation: String
    /// Rows returned plus rows its filter removed, over every loop.
    var rowsRead: Int
  }

  struct Plan {
    var query: String
    var scans: [Scan]
  }

  private let plans = Mutex<[Plan]>([])

  func add(_ notice: String) {
    guard let start = notice.firstIndex(of: "{"),
      let json = try? JSONSerialization.jsonObject(with: Data(notice[start...].utf8))
        as? [String: Any],
      let root = json["Plan"] as? [String: Any]
    else { return }
    var scans: [Scan] = []
    Self.collect(root, into: &scans)
    let plan = Plan(query: json["Query Text"] as? String ?? "?", scans: scans)
    plans.withLock { $0.append(plan) }
  }

  private static func collect(_ node: [String: Any], into scans: inout [Scan]) {
    if let relation = node["Relation Name"] as? String, let type = node["Node Type"] as? String {
      let number = { (key: String) in (node[key] as? NSNumber)?.doubleValue ?? 0 }
      let perLoop = number("Actual Rows") + number("Rows Removed by Filter")
      scans.append(
        Scan(node: type, relation: relation, rowsRead: Int(perLoop * number("Actual Loops"))))
    }
    for child in node["Plans"] as? [[String: Any]] ?? [] { collect(child, into: &scans) }
  }

  func clear() { plans.withLock { $0.removeAll() } }
  func all() -> [Plan] { plans.withLock { $0 } }
}
