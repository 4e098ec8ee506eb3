import Testing

@testable import ChatStore

/// Every function that locks several rooms takes their locks in one order, the lock key's
/// (`hashtext(room)`, then the id), as the send batch does: two of them over the same rooms
/// then wait for each other instead of deadlocking (migration 16).
@Suite struct RoomLockOrderTests {
  let store: Store
  /// Two rooms whose ids sort one way and whose lock keys the other.
  let idFirst: String
  let keyFirst: String

  init() async throws {
    store = try await makeTestStore(maxConnections: 4)
    try await store.makeUsers("alice", "bob")
    var rooms: [String] = []
    var pair: (String, String)?
    // Two random ids sort differently by key about half the time.
    while pair == nil, rooms.count < 40 {
      rooms.append(
        try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id)
      let row = try await store.pool.query(
        """
        SELECT a.id::text AS id_first, b.id::text AS key_first
        FROM rooms a JOIN rooms b ON a.id < b.id
        WHERE a.id = ANY (\(rooms)::uuid[]) AND b.id = ANY (\(rooms)::uuid[])
          AND hashtext(b.id::text) < hashtext(a.id::text)
        LIMIT 1
        """
      ).rows.first
      if let row { pair = (try row.decode("id_first"), try row.decode("key_first")) }
    }
    let (idFirst, keyFirst) = try #require(pair)
    self.idFirst = idFirst
    self.keyFirst = keyFirst
  }

  /// A batch of delivered pointers over both rooms, while another transaction holds the room
  /// whose key comes first: the batch waits there holding nothing, so the other room's lock
  /// is free. In id order it would hold the other room while it waits.
  @Test func deliveredPointersLockRoomsInKeyOrder() async throws {
    try await expectKeyOrder(waitingIn: "chat_mark_delivered_many") {
      try await store.rooms.markDelivered(
        [
          .init(roomID: idFirst, userID: "bob", seq: 1),
          .init(roomID: keyFirst, userID: "bob", seq: 1),
        ], eventMaxMembers: 50)
    }
  }

  /// The send batch takes every room's lock before anything else, in the same order.
  @Test func aSendBatchLocksRoomsInKeyOrder() async throws {
    try await expectKeyOrder(waitingIn: "chat_send_batch") {
      let outcomes = await store.messages.appends.execute([
        .init(roomID: idFirst, sender: "bob", clientMsgID: "lock-1", body: "x"),
        .init(roomID: keyFirst, sender: "bob", clientMsgID: "lock-2", body: "y"),
      ])
      for outcome in outcomes { _ = try outcome.get() }
    }
  }

  /// A user's deletion locks every room of theirs first, in the same order.
  @Test func deletingAUserLocksRoomsInKeyOrder() async throws {
    try await expectKeyOrder(waitingIn: "chat_delete_user") {
      _ = try await store.pool.query("SELECT chat_delete_user('bob')")
    }
  }

  /// Runs `locker` while a transaction holds `keyFirst`'s lock, waits until it is blocked, and
  /// checks that it does not hold `idFirst`'s.
  private func expectKeyOrder(
    waitingIn function: String, _ locker: @escaping @Sendable () async throws -> Void
  ) async throws {
    let (held, holding) = AsyncStream<Void>.makeStream()
    let (releases, release) = AsyncStream<Void>.makeStream()
    let store = store
    let keyFirst = keyFirst
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        try await store.pool.withTransaction { transaction in
          _ = try await transaction.query("SELECT chat_lock_room(\(keyFirst)::uuid)")
          holding.yield()
          for await _ in releases {}
        }
      }
      for await _ in held { break }
      group.addTask { try await locker() }
      defer { release.finish() }
      try await waitUntilBlocked(in: function)
      let free = try await store.pool.withTransaction { transaction in
        try await transaction.query(
          "SELECT pg_try_advisory_xact_lock(7, hashtext(\(idFirst))) AS free"
        ).rows[0].decode("free", as: Bool.self)
      }
      #expect(free, "\(function) took the lock of the room whose key comes second first")
      release.finish()
      try await group.waitForAll()
    }
  }

  /// Polls (at most 10 s) until a backend running `function` waits for a lock.
  private func waitUntilBlocked(in function: String) async throws {
    let pattern = "%\(function)%"
    for _ in 0..<400 {
      let waiting: Int64 = try await store.pool.query(
        """
        SELECT count(*) AS waiting FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE \(pattern)
        """
      ).rows[0].decode("waiting")
      if waiting > 0 { return }
      try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("no backend running \(function) waited for a lock within 10 s")
  }
}
