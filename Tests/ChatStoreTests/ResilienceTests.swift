import Foundation
import Logging
import Testing

@testable import ChatStore

/// These tests stop and restart PostgreSQL, so each runs its own throwaway cluster.
@Suite struct ResilienceTests {
  @Test func restartGivesUnavailableThenRecoversAndListenerResyncs() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-restart-\(UUID())"
    ).path
    let url = try TestCluster.pg("start", dir)
    defer { _ = try? TestCluster.pg("destroy", dir) }
    var configuration = PostgresPool.Configuration(conninfo: url)
    configuration.maxConnections = 4
    configuration.minBackoff = .milliseconds(20)
    configuration.maxBackoff = .milliseconds(200)
    try await Store.migrate(configuration)
    let pool = PostgresPool(configuration: configuration)
    let listener = NotificationListener(configuration: configuration)
    var events = listener.events().makeAsyncIterator()
    let listening = Task { try await listener.run() }
    defer {
      listening.cancel()
      pool.shutdown()
    }
    #expect(await events.next() == .resync)
    _ = try await pool.query("SELECT pg_notify('chat_room_events', 'r:1')")
    #expect(await events.next() == .notification(channel: "chat_room_events", payload: "r:1"))

    try TestCluster.pg("stop", dir)
    let clock = ContinuousClock()
    let started = clock.now
    #expect(await storeErrorKind { _ = try await pool.query("SELECT 1") } == .unavailable)
    #expect(await storeErrorKind { _ = try await pool.query("SELECT 1") } == .unavailable)
    #expect(clock.now - started < .seconds(3))

    _ = try TestCluster.pg("start", dir)
    var recovered = false
    for _ in 0..<100 where !recovered {
      recovered = (try? await pool.query("SELECT 1")) != nil
      if !recovered { try await Task.sleep(for: .milliseconds(50)) }
    }
    #expect(recovered)
    // The listener noticed the gap and says so; then it hears new notifications.
    #expect(await events.next() == .resync)
    _ = try await pool.query("SELECT pg_notify('chat_room_events', 'r:2')")
    #expect(await events.next() == .notification(channel: "chat_room_events", payload: "r:2"))

    // pg_ctl restart: at most the first call on a dead connection fails, as unavailable.
    try TestCluster.pg("restart", dir)
    let kind = await storeErrorKind { _ = try await pool.query("SELECT 1") }
    #expect(kind == nil || kind == .unavailable)
    var ok = false
    for _ in 0..<100 where !ok {
      ok = (try? await pool.query("SELECT 1")) != nil
      if !ok { try await Task.sleep(for: .milliseconds(50)) }
    }
    #expect(ok)
  }

  @Test func acquireTimesOutAsUnavailable() async throws {
    let database = try await TestCluster.freshDatabase()
    var configuration = PostgresPool.Configuration(
      conninfo: database.conninfo, database: database.database)
    configuration.maxConnections = 1
    configuration.acquireTimeout = .milliseconds(200)
    let pool = PostgresPool(configuration: configuration)
    defer { pool.shutdown() }
    async let holder: PostgresResult = pool.query("SELECT pg_sleep(1)")
    try await Task.sleep(for: .milliseconds(100))
    #expect(await storeErrorKind { _ = try await pool.query("SELECT 1") } == .unavailable)
    _ = try await holder
    #expect(try await pool.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
  }

  @Test func transactionsCommitOrRollBack() async throws {
    let store = try await makeTestStore()
    try await store.makeUsers("alice")
    await #expect(throws: StoreError.self) {
      try await store.pool.withTransaction { tx in
        _ = try await tx.query("UPDATE users SET display_name = 'changed' WHERE id = 'alice'")
        _ = try await tx.query("SELECT 1/0")
      }
    }
    #expect(try await store.users.get(id: "alice")?.displayName == "Name alice")
    try await store.pool.withTransaction { tx in
      _ = try await tx.query("UPDATE users SET display_name = 'changed' WHERE id = 'alice'")
    }
    #expect(try await store.users.get(id: "alice")?.displayName == "changed")
    // A pipeline is one implicit transaction: the failing statement undoes the first.
    await #expect(throws: StoreError.self) {
      _ = try await store.pool.execute([
        "UPDATE users SET display_name = 'again' WHERE id = 'alice'", "SELECT 1/0",
      ])
    }
    #expect(try await store.users.get(id: "alice")?.displayName == "changed")
  }
}
