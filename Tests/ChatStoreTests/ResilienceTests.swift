import Foundation
import Logging
import Synchronization
import Testing

@testable import ChatStore

/// These tests stop and restart PostgreSQL, so each runs its own throwaway cluster.
@Suite struct ResilienceTests {
  @Test func restartGivesUnavailableThenRecoversAndListenerResyncs() async throws {
    let (url, dir) = try ownCluster("restart")
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
    #expect(try await answersAgain(pool))
    // The listener noticed the gap and says so; then it hears new notifications.
    #expect(await events.next() == .resync)
    _ = try await pool.query("SELECT pg_notify('chat_room_events', 'r:2')")
    #expect(await events.next() == .notification(channel: "chat_room_events", payload: "r:2"))

    // pg_ctl restart: at most the first call on a dead connection fails, as unavailable.
    try TestCluster.pg("restart", dir)
    let kind = await storeErrorKind { _ = try await pool.query("SELECT 1") }
    #expect(kind == nil || kind == .unavailable)
    #expect(try await answersAgain(pool))
  }

  /// The chaos run found reads that never returned after `pg_ctl restart -m immediate`:
  /// dispatch did not report the hang-up that came right behind the dying server's notice, so
  /// some requests waited forever on a socket at EOF. A busy pool crashed over and over: every
  /// call ends, failed or answered, within a few seconds.
  @Test(.timeLimit(.minutes(2))) func everyCallEndsWhenPostgreSQLCrashesUnderLoad() async throws {
    let (url, dir) = try ownCluster("crash")
    defer { _ = try? TestCluster.pg("destroy", dir) }
    let pool = PostgresPool(configuration: PostgresPool.Configuration(conninfo: url))
    defer { pool.shutdown() }
    final class Calls: Sendable {
      let stop = Atomic<Bool>(false)
      let longest = Mutex<Duration>(.zero)
      let answered = Atomic<Int>(0)
      let otherFailures = Mutex<[String]>([])
    }
    let calls = Calls()
    let clock = ContinuousClock()
    // More callers than connections, each a pipeline like the feeds' reads.
    let callers = (0..<24).map { _ in
      Task {
        while !calls.stop.load(ordering: .relaxed) {
          let started = clock.now
          let failure = await storeErrorKind {
            _ = try await pool.execute([
              "SELECT pg_notify('chaos', 'x')", "SELECT generate_series(1, 50)", "SELECT 2",
            ])
          }
          let took = clock.now - started
          let answered = failure == nil
          if let failure, failure != .unavailable {
            calls.otherFailures.withLock { $0.append("\(failure)") }
          }
          calls.longest.withLock { $0 = max($0, took) }
          if answered {
            calls.answered.add(1, ordering: .relaxed)
          } else {
            try? await Task.sleep(for: .milliseconds(10))
          }
        }
      }
    }
    for _ in 0..<6 {
      try await Task.sleep(for: .milliseconds(700))
      // pg_ctl blocks: off the cooperative threads, which the callers need.
      try await Task.detached { try TestCluster.pg("crash", dir) }.value
    }
    try await Task.sleep(for: .seconds(1))
    calls.stop.store(true, ordering: .relaxed)
    for caller in callers { await caller.value }
    #expect(calls.longest.withLock { $0 } < .seconds(5))
    #expect(calls.answered.load(ordering: .relaxed) > 0)
    #expect(calls.otherFailures.withLock { $0 } == [], "a crash reads as unavailable")
    #expect(try await answersAgain(pool))
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
    // The holder has the one connection (or is opening it) before the second call asks: a
    // fixed pause raced the holder's start when the cooperative threads were busy (CI run).
    var polls = 0
    while pool.statistics.inUse == 0, polls < 1000 {
      try await Task.sleep(for: .milliseconds(5))
      polls += 1
    }
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

  /// A cluster of the test's own, which it may stop, restart and crash; the caller destroys it.
  private func ownCluster(_ name: String) throws -> (url: String, dir: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-\(name)-\(UUID())"
    ).path
    return (try TestCluster.pg("start", dir), dir)
  }

  /// Whether the pool answers again within about five seconds.
  private func answersAgain(_ pool: PostgresPool) async throws -> Bool {
    for _ in 0..<100 {
      if (try? await pool.query("SELECT 1")) != nil { return true }
      try await Task.sleep(for: .milliseconds(50))
    }
    return false
  }
}
