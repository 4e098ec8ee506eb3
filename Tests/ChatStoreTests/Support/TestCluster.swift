import Foundation

@testable import ChatStore

/// Where the tests' PostgreSQL comes from: `CHATD_TEST_DATABASE_URL` (scripts/test exports it
/// after starting a throwaway cluster with scripts/pg), else a cluster this process starts in a
/// temp folder with the same scripts/pg and leaves to the OS temp cleanup.
enum TestCluster {
  static let scriptsPG: String = {
    // Tests/ChatStoreTests/Support/TestCluster.swift -> repo root
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent("scripts/pg").path
  }()

  /// The shared server's URL, started once per test process when the env var is unset.
  static let baseURL: String = {
    if let url = ProcessInfo.processInfo.environment["CHATD_TEST_DATABASE_URL"], !url.isEmpty {
      return url
    }
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("chatd-store-tests").path
    return try! pg("start", dir)
  }()

  /// Runs scripts/pg and returns its trimmed standard output.
  @discardableResult
  static func pg(_ command: String, _ dir: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [scriptsPG, command, dir]
    process.environment = ProcessInfo.processInfo.environment.merging(["PG_FSYNC": "off"]) {
      $1
    }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw StoreError(.unavailable, serverMessage: "scripts/pg \(command) failed")
    }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A fresh, empty database on the shared server, so suites run in parallel undisturbed.
  static func freshDatabase() async throws -> PostgresConnection.Configuration {
    let name =
      "chatd_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    let admin = try await PostgresConnection.connect(.init(conninfo: baseURL))
    defer { admin.close() }
    _ = try await admin.run(unsafeSQL: "CREATE DATABASE \(name)")
    return .init(conninfo: baseURL, database: name)
  }
}
