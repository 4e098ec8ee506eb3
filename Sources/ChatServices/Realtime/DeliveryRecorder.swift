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
  /// The pointers of the room streams open now, by identity.
  private let pointers = Mutex<[ObjectIdentifier: Pointer]>([:])

  /// One room stream's delivered pointer. The stream stores the last seq it wrote with no
  /// lock and no hashing (a room of 10,000 subscribers moves 10,000 pointers per message);
  /// each flush collects the pointers that moved.
  final class Pointer: Sendable {
    let roomID: String
    let user: String
    /// The last seq of another member's message the stream wrote.
    let delivered = Atomic<UInt64>(0)
    /// What the database has; only the flush touches it.
    fileprivate let written = Atomic<UInt64>(0)

    init(roomID: String, user: String) {
      self.roomID = roomID
      self.user = user
    }
  }

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

  /// The pointer of a room stream that starts now; `close` it when the stream ends.
  func openPointer(roomID: String, user: String) -> Pointer {
    let pointer = Pointer(roomID: roomID, user: user)
    pointers.withLock { $0[ObjectIdentifier(pointer)] = pointer }
    return pointer
  }

  /// The stream ended: its last move goes out with the next flush.
  func close(_ pointer: Pointer) {
    pointers.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(pointer)) }
    let seq = pointer.delivered.load(ordering: .relaxed)
    if seq > pointer.written.load(ordering: .relaxed) {
      record(roomID: pointer.roomID, user: pointer.user, seq: seq)
    }
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
    let recorded = pending.withLock { pending in
      defer { pending = [:] }
      return pending
    }
    let moved = pointers.withLock { Array($0.values) }.compactMap {
      pointer -> (Pointer, UInt64)? in
      let seq = pointer.delivered.load(ordering: .relaxed)
      return seq > pointer.written.load(ordering: .relaxed) ? (pointer, seq) : nil
    }
    var batch = recorded
    for (pointer, seq) in moved {
      let key = Key(roomID: pointer.roomID, user: pointer.user)
      batch[key] = max(batch[key] ?? 0, Int64(clamping: seq))
    }
    guard !batch.isEmpty else { return }
    do {
      try await store.rooms.markDelivered(
        batch.map {
          RoomRepository.Delivery(roomID: $0.key.roomID, userID: $0.key.user, seq: $0.value)
        },
        eventMaxMembers: eventMaxMembers)
      for (pointer, seq) in moved { pointer.written.store(seq, ordering: .relaxed) }
    } catch {
      // Kept for the next tick (merged with newer records; pointers still differ from what
      // was written): delivery is best effort, but a database hiccup should not lose it.
      pending.withLock { pending in
        for (key, seq) in recorded { pending[key] = max(pending[key] ?? 0, seq) }
      }
      logger.warning("delivered pointers not written", metadata: ["error": "\(error)"])
    }
  }
}
