import Testing

@testable import ChatStore

@Suite struct PostgresPoolTests {
  /// A caller that finds every connection lent out waits for a handoff. A release that came
  /// between that look and the wait found no waiter and put the connection back idle, so the
  /// caller waited for the acquire timeout beside an idle connection (found by StoreAppend at
  /// one writer: its send and the announcement took turns with one connection). Two callers
  /// take turns with one connection here as fast as they can, which met that window within
  /// a few thousand turns.
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
