import Testing

@testable import ChatStore

@Suite struct PostgresPoolTests {
  /// A caller that finds every connection lent out waits for a handoff. A release that came
  /// between that look and the wait found no waiter and put the connection back idle, so the
  /// caller waited for the acquire timeout beside an idle connection (found by StoreAppend at
  /// one writer: its send and the announcement took turns with one connection). Two callers
  /// take turns with one connection here as fast as they can. The window is a few
  /// instructions wide: before the fix this failed in one run of three at 50,000 turns and
  /// one of five at 200,000, so it guards the fix only now and then; the fix itself looks and
  /// registers in one critical section (`waitForHandoff`).
  @Test(.timeLimit(.minutes(1))) func aConnectionReleasedAsACallerStartsWaitingReachesIt()
    async throws
  {
    var configuration = PostgresPool.Configuration(conninfo: TestCluster.baseURL)
    configuration.maxConnections = 1
    configuration.acquireTimeout = .seconds(3)
    let pool = PostgresPool(configuration: configuration)
    defer { pool.shutdown() }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<2 {
        group.addTask {
          for _ in 0..<200_000 { try await pool.withConnection { _ in } }
        }
      }
      try await group.waitForAll()
    }
  }
}
