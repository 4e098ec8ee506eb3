import Synchronization

/// Tells the bus about room events committed without their NOTIFY: MarkRead's `read` events
/// (migration 14), one NOTIFY per event (`room:seq`) after the commit. PostgreSQL lets one
/// notifying transaction commit at a time, cluster-wide (`Lock:object` on the notification
/// queue), fsync included when the transaction wrote anything, and every MarkRead is a
/// transaction of its own: that is why it does not NOTIFY itself. Announcing in a
/// transaction per write made the announcements queue on the same lock instead, each holding
/// a pool connection that the writes then waited for. Here one transaction at a time carries
/// whatever was committed meanwhile, for every room (`chat_announce_seqs`, migration 13): the
/// lock is taken once per flush, never contended by this instance, and announcing holds one
/// connection at most. (SendMessage's batches announced here from migration 12 to 16; since
/// migration 17 each batch NOTIFYs in its own transaction, one commit for up to 64 sends.)
///
/// A room's seqs go out in the order they are queued. A `read` event announced after a batch
/// of the same room that committed later brings that batch's events too: every consumer
/// reads a room's events from the database by position.
///
/// The events are durable whatever happens here: an announcement that fails reaches the
/// subscribers with the next position check instead, so it is logged, not thrown.
final class RoomEventAnnouncer: Sendable {
  private struct State {
    var rooms: [String] = []
    var seqs: [Int64] = []
    var flushing = false
  }

  private let state = Mutex(State())
  private let pool: PostgresPool
  /// The most notifications in one transaction; the rest go in the next.
  static let maxPerFlush = 1_000

  init(pool: PostgresPool) {
    self.pool = pool
  }

  /// Queues new events, each room's in seq order; starts a flush unless one is under way.
  func announce(_ events: [(room: String, seq: Int64)]) {
    guard !events.isEmpty else { return }
    let starts = state.withLock { state in
      state.rooms += events.lazy.map(\.room)
      state.seqs += events.lazy.map(\.seq)
      guard !state.flushing else { return false }
      state.flushing = true
      return true
    }
    if starts { Task { await flush() } }
  }

  /// Waits until everything queued has been sent (or has failed), for at most `limit`.
  func drain(within limit: Duration) async {
    let deadline = ContinuousClock.now + limit
    while state.withLock({ $0.flushing }), ContinuousClock.now < deadline, !Task.isCancelled {
      try? await Task.sleep(for: .milliseconds(5))
    }
  }

  private func flush() async {
    while true {
      let (rooms, seqs) = state.withLock { state in
        let count = min(state.seqs.count, Self.maxPerFlush)
        let taken = (Array(state.rooms.prefix(count)), Array(state.seqs.prefix(count)))
        state.rooms.removeFirst(count)
        state.seqs.removeFirst(count)
        if count == 0 { state.flushing = false }
        return taken
      }
      guard !seqs.isEmpty else { return }
      do {
        _ = try await pool.execute([
          "SELECT chat_announce_seqs(\(rooms)::uuid[], \(seqs.map(String.init))::bigint[])"
        ])
      } catch {
        pool.logger.warning(
          "room events not announced: subscribers get them with the next position check",
          metadata: [
            "rooms": "\(Set(rooms).sorted())", "events": "\(seqs.count)", "error": "\(error)",
          ])
      }
    }
  }
}
