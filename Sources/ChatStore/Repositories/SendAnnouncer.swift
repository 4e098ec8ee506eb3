import Synchronization

/// Tells the bus about committed sends: one NOTIFY per new message (`room:seq`), after the
/// batch's commit (migration 12). PostgreSQL lets one notifying transaction commit at a time,
/// cluster-wide (`Lock:object` on the notification queue), so a transaction per batch made
/// the announcements of busy, separate rooms queue on that lock, each holding a pool
/// connection that an append then waited for: with 32 writers in 32 rooms, 25 of 32 backends
/// waited there and the appends ran at the announcements' pace. Here one transaction at a
/// time carries whatever was committed meanwhile, for every room (`chat_announce_seqs`,
/// migration 13): the lock is taken once per flush, never contended by this instance, and
/// announcing holds one connection at most. A room's seqs go out in commit order, since
/// batches are queued in that order and flushed one after the other.
///
/// The messages are durable whatever happens here: an announcement that fails reaches the
/// subscribers with the next position check instead, so it is logged, not thrown.
final class SendAnnouncer: Sendable {
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

  /// Queues the new seqs of one room, in order; starts a flush unless one is under way.
  func announce(room: String, seqs: [Int64]) {
    guard !seqs.isEmpty else { return }
    let starts = state.withLock { state in
      state.rooms += repeatElement(room, count: seqs.count)
      state.seqs += seqs
      guard !state.flushing else { return false }
      state.flushing = true
      return true
    }
    if starts { Task { await flush() } }
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
          "new messages not announced: subscribers get them with the next position check",
          metadata: [
            "rooms": "\(Set(rooms).sorted())", "messages": "\(seqs.count)", "error": "\(error)",
          ])
      }
    }
  }
}
