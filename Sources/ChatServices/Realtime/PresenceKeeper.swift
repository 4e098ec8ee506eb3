import ChatStore
import Foundation
import Logging
import Synchronization

/// This instance's presence bookkeeping: a lease renewed in the database, and a count of live
/// SubscribeUser streams per user. A killed instance stops renewing: its users turn offline
/// when the lease runs out and any instance reaps it.
final class PresenceKeeper: Sendable {
  let store: Store
  let instanceID: String
  let lease: Duration
  let logger: Logger
  private let leased = Atomic<Bool>(false)

  init(store: Store, lease: Duration, logger: Logger) {
    self.store = store
    self.instanceID = UUID().uuidString.lowercased()
    self.lease = lease
    self.logger = logger
  }

  func streamOpened(user: String) async throws {
    if !leased.load(ordering: .acquiring) { try await renew() }
    try await store.presence.streamOpened(instance: instanceID, user: user)
  }

  /// Runs detached: the stream's task is ending (often cancelled) when this is called.
  func streamClosed(user: String) {
    Task {
      do {
        try await store.presence.streamClosed(instance: instanceID, user: user)
      } catch {
        logger.warning("presence not updated", metadata: ["user": "\(user)", "error": "\(error)"])
      }
    }
  }

  /// Renews the lease a few times per period and reaps dead instances until cancelled; then
  /// retires this instance, so its users turn offline at once.
  func run() async {
    while true {
      do {
        try await renew()
        _ = try await store.presence.reapExpired()
      } catch {
        logger.warning("presence lease not renewed", metadata: ["error": "\(error)"])
      }
      do { try await Task.sleep(for: lease / 3) } catch { break }
    }
    do {
      try await store.presence.retire(instance: instanceID)
    } catch {
      logger.warning("presence not retired", metadata: ["error": "\(error)"])
    }
  }

  private func renew() async throws {
    try await store.presence.renewLease(instance: instanceID, ttl: lease)
    leased.store(true, ordering: .releasing)
  }
}
