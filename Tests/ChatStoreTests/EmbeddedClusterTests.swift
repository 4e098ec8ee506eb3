import Foundation
import Testing

@testable import ChatStore

@Suite struct EmbeddedClusterTests {
  @Test func storeWithoutURLRunsItsOwnClusterAndStopsIt() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-embedded-\(UUID())")
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try await Store.open(StoreConfiguration(databaseURL: nil, dataDir: dir.path))
    let cluster = try #require(store.cluster)
    #expect(cluster.url.contains(dir.path))
    _ = try await store.users.upsert(id: "u", displayName: "U", avatarURL: "")
    let running = Task { try await store.run() }
    try await Task.sleep(for: .milliseconds(100))
    running.cancel()
    try await running.value
    #expect(
      await storeErrorKind {
        _ = try await PostgresConnection.connect(.init(conninfo: cluster.url))
      } == .unavailable)
    // A second start reuses the cluster and its data.
    let again = try await Store.open(StoreConfiguration(databaseURL: nil, dataDir: dir.path))
    #expect(try await again.users.get(id: "u")?.displayName == "U")
    again.pool.shutdown()
    await again.cluster?.stop()
  }

  @Test func missingBinariesGiveAClearError() async throws {
    let cluster = EmbeddedCluster(dataDir: "/tmp/chatd-never", binDirectory: "/nonexistent/bin")
    do {
      _ = try await cluster.start()
      Issue.record("started without binaries")
    } catch let error as EmbeddedClusterError {
      #expect(error.description.contains("/nonexistent/bin/initdb is missing"))
    }
  }
}
