import ChatStore
import Logging
import Synchronization

/// Delivered pointers, batched: writing a message to a recipient's live stream records it
/// here, and one transaction a tick moves every pointer that changed (a stream catching up on
/// thousands of messages costs one write, not thousands).
final class DeliveryRecorder: Sendable {
  let store: Store
  let interval: Duration
  let eventMaxMembers: Int
  let logger: Logger
  private let pending = Mutex<[Key: Int64]>([:])

  private struct Key: Hashable {
    var roomID: String
    var user: String
  }

  init(store: Store, interval: Duration, eventMaxMembers: Int, logger: Logger) {
    self.store = store
    self.interval = interval
    self.eventMaxMembers = eventMaxMembers
    self.logger = logger
  }

  func record(roomID: String, user: String, seq: UInt64) {
    let seq = Int64(clamping: seq)
    pending.withLock { pending in
      let key = Key(roomID: roomID, user: user)
      pending[key] = max(pending[key] ?? 0, seq)
    }
  }

  /// Flushes every tick until cancelled, then once more.
  func run() async {
    while true {
      do {
        try await Task.sleep(for: interval)
      } catch {
        await flush()
        return
      }
      await flush()
    }
  }

  func flush() async {
    let batch = pending.withLock { pending in
      defer { pending = [:] }
      return pending
    }
    guard !batch.isEmpty else { return }
    do {
      try await store.rooms.markDelivered(
        batch.map {
          RoomRepository.Delivery(roomID: $0.key.roomID, userID: $0.key.user, seq: $0.value)
        },
        eventMaxMembers: eventMaxMembers)
    } catch {
      // Kept for the next tick (merged with newer records): delivery is best effort, but a
      // database hiccup should not lose it.
      pending.withLock { pending in
        for (key, seq) in batch { pending[key] = max(pending[key] ?? 0, seq) }
      }
      logger.warning("delivered pointers not written", metadata: ["error": "\(error)"])
    }
  }
}
