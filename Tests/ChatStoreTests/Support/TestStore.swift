import Foundation
import Logging

@testable import ChatStore

/// A migrated, empty database of its own for one suite or test.
/// A store on a fresh database; `pushGracePeriod` turns push rows on as chatd does.
func makeTestStore(maxConnections: Int = 10, pushGracePeriod: Duration? = nil) async throws
  -> Store
{
  let connection = try await TestCluster.freshDatabase()
  var configuration = PostgresPool.Configuration(
    conninfo: connection.conninfo, database: connection.database)
  configuration.maxConnections = maxConnections
  configuration.acquireTimeout = .seconds(10)
  if let pushGracePeriod {
    configuration.settings["chatd.push_grace_ms"] = "\(pushGracePeriod.components.seconds * 1000)"
  }
  try await Store.migrate(configuration)
  let logger = Logger(label: "test")
  return Store(
    pool: PostgresPool(configuration: configuration, logger: logger),
    listener: NotificationListener(configuration: configuration, logger: logger),
    cluster: nil, logger: logger)
}

extension Store {
  /// Creates users named by their ids.
  @discardableResult
  func makeUsers(_ ids: String...) async throws -> [UserProfile] {
    try await makeUsers(ids)
  }

  @discardableResult
  func makeUsers(_ ids: [String]) async throws -> [UserProfile] {
    var profiles: [UserProfile] = []
    for id in ids {
      profiles.append(try await users.upsert(id: id, displayName: "Name \(id)", avatarURL: ""))
    }
    return profiles
  }
}

/// Runs `body` and returns the StoreError kind it threw (nil when it did not throw).
func storeErrorKind(_ body: () async throws -> Void) async -> StoreError.Kind? {
  do {
    try await body()
    return nil
  } catch let error as StoreError {
    return error.kind
  } catch {
    return .internalError
  }
}
