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

/// Where the cluster lives when chatd runs as root from a folder postgres cannot reach.
@Suite struct EmbeddedClusterPlacementTests {
  @Test func aDataDirBehindAPrivateFolderMovesToPostgresHome() throws {
    let hidden = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-private-\(UUID())")
    try FileManager.default.createDirectory(
      at: hidden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(at: hidden) }
    let dataDir = hidden.appendingPathComponent("data").path
    #expect(!EmbeddedCluster.postgresCanTraverse(dataDir))
    let cluster = EmbeddedCluster(dataDir: dataDir)
    if getuid() == 0 {
      #expect(cluster.directory.path.hasPrefix("/var/lib/postgresql/chatd/data-"))
      #expect(cluster.directory == EmbeddedCluster(dataDir: dataDir).directory)
      #expect(cluster.directory != EmbeddedCluster(dataDir: dataDir + "2").directory)
    } else {
      #expect(cluster.directory.path == dataDir + "/postgres")
    }
  }

  @Test func anOpenDataDirKeepsTheClusterInside() throws {
    let open = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chatd-open-\(UUID())")
    try FileManager.default.createDirectory(
      at: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    defer { try? FileManager.default.removeItem(at: open) }
    let dataDir = open.appendingPathComponent("data").path
    #expect(EmbeddedCluster.postgresCanTraverse(dataDir))
    #expect(EmbeddedCluster(dataDir: dataDir).directory.path == dataDir + "/postgres")
  }
}
