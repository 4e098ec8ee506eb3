import Synchronization

/// Group commit for SendMessage. A send's transaction holds its room's lock until its commit
/// is flushed, and each transaction costs the database a fixed part (its statements' start-up,
/// the commit) several times what one more send in it costs. So sends share transactions:
/// - the first send goes out at once, alone, when a batch slot is free and its room has no
///   batch in flight (no added latency when there is no contention);
/// - sends that arrive meanwhile wait, and when a batch ends the waiting sends of every room
///   without a batch in flight go together (up to `maxBatch`) in one `chat_send_batch` call:
///   one transaction, one commit, each room's lock taken in one order (migration 15);
/// - at most `maxInFlight` batches run at once, and a room is in at most one of them, so a
///   room's sends never wait on each other's locks and take their seqs in arrival order.
/// Idempotency holds inside a batch as across batches: a retry finds the original.
final class AppendBatcher: Sendable {
  struct Send: Sendable {
    var roomID: String
    var sender: String
    var clientMsgID: String
    var body: String
    var replyTo: String?
  }

  typealias Outcome = Result<(message: Message, created: Bool), any Error>

  private struct Waiter: Sendable {
    var send: Send
    var continuation: CheckedContinuation<(message: Message, created: Bool), any Error>
  }

  /// The waiting sends by room, the rooms with a batch in flight, and the rooms whose sends
  /// may go in the next batch, in the order their first send arrived.
  private struct State {
    var waiting: [String: [Waiter]] = [:]
    var busy: Set<String> = []
    var ready: [String] = []
    var inFlight = 0

    /// Queues a send; its room becomes ready unless it is busy or ready already.
    mutating func enqueue(_ waiter: Waiter) {
      let room = waiter.send.roomID
      if waiting[room, default: []].isEmpty, !busy.contains(room) { ready.append(room) }
      waiting[room, default: []].append(waiter)
    }

    /// The batches that may start now: ready rooms' sends in arrival order of the rooms, up
    /// to `maxBatch` each, while slots are free. Their rooms are busy until `finish`.
    mutating func takeBatches(maxBatch: Int, maxInFlight: Int) -> [[Waiter]] {
      var batches: [[Waiter]] = []
      while inFlight < maxInFlight, !ready.isEmpty {
        var batch: [Waiter] = []
        var taken = 0
        for room in ready {
          guard batch.count < maxBatch else { break }
          let queue = waiting[room] ?? []
          let count = min(queue.count, maxBatch - batch.count)
          batch += queue.prefix(count)
          waiting[room] = count == queue.count ? nil : Array(queue.dropFirst(count))
          busy.insert(room)
          taken += 1
        }
        ready.removeFirst(taken)
        inFlight += 1
        batches.append(batch)
      }
      return batches
    }

    /// A batch ended: its rooms are free again, and ready if sends of theirs wait.
    mutating func finish(rooms: Set<String>) {
      inFlight -= 1
      for room in rooms {
        busy.remove(room)
        if !(waiting[room] ?? []).isEmpty { ready.append(room) }
      }
    }
  }

  private let state = Mutex(State())
  /// Tells the bus about each batch's new messages after its commit, beside the next batches
  /// rather than before them.
  private let announcer: RoomEventAnnouncer
  private let pool: PostgresPool
  /// The most sends in one transaction.
  let maxBatch: Int
  /// The most batches in flight at once.
  let maxInFlight: Int

  init(
    pool: PostgresPool, announcer: RoomEventAnnouncer, maxBatch: Int = 64, maxInFlight: Int
  ) {
    self.pool = pool
    self.announcer = announcer
    self.maxBatch = maxBatch
    self.maxInFlight = max(1, maxInFlight)
  }

  func append(_ send: Send) async throws -> (message: Message, created: Bool) {
    let leads = state.withLock { state in
      // No send waits while a slot is free (`takeBatches` runs after every change), so a
      // free slot and an idle room mean the send may go alone, now.
      guard state.inFlight < maxInFlight, !state.busy.contains(send.roomID) else { return false }
      state.inFlight += 1
      state.busy.insert(send.roomID)
      return true
    }
    guard leads else {
      return try await withCheckedThrowingContinuation { continuation in
        // A batch may have ended since the check above: then this send starts one itself.
        let batches = state.withLock { state in
          state.enqueue(Waiter(send: send, continuation: continuation))
          return state.takeBatches(maxBatch: maxBatch, maxInFlight: maxInFlight)
        }
        start(batches)
      }
    }
    let outcome = await execute([send])[0]
    start(finish(rooms: [send.roomID]))
    return try outcome.get()
  }

  /// Frees a batch's slot and rooms; the batches that may start now.
  private func finish(rooms: Set<String>) -> [[Waiter]] {
    state.withLock { state in
      state.finish(rooms: rooms)
      return state.takeBatches(maxBatch: maxBatch, maxInFlight: maxInFlight)
    }
  }

  /// Runs each batch in a task of its own; a task goes on with the next batch that its end
  /// lets start, and starts tasks for any others.
  private func start(_ batches: [[Waiter]]) {
    for batch in batches {
      Task {
        var batch = batch
        while !batch.isEmpty {
          let outcomes = await execute(batch.map(\.send))
          for (waiter, outcome) in zip(batch, outcomes) {
            waiter.continuation.resume(with: outcome)
          }
          var next = finish(rooms: Set(batch.map(\.send.roomID)))
          batch = next.isEmpty ? [] : next.removeFirst()
          start(next)
        }
      }
    }
  }

  /// One round trip: the appends in one transaction and each message as its sender sees it;
  /// their announcement follows in the background. (Internal, not private: tests compose
  /// batches with it.)
  func execute(_ sends: [Send]) async -> [Outcome] {
    do {
      let rooms = try sends.map { try uuid($0.roomID) }
      let replies = try sends.map { try $0.replyTo.map(uuid) }
      let senders = sends.map(\.sender)
      let clientIDs = sends.map(\.clientMsgID)
      // One statement (chat_send_batch, migration 15): the append and every reply.
      let rows = try await pool.query(
        """
        SELECT * FROM chat_send_batch(
          \(rooms)::uuid[], \(senders)::text[], \(clientIDs)::text[], \(sends.map(\.body))::text[],
          \(replies)::uuid[])
        """
      ).rows
      var outcomes = [Outcome](
        repeating: .failure(StoreError(.internalError, serverMessage: "appended message missing")),
        count: sends.count)
      var created: [(room: String, seq: Int64)] = []
      for row in rows {
        let index: Int = try row.decode("idx")
        guard outcomes.indices.contains(index - 1) else { continue }
        if let code = try row.decode("error_code", as: String?.self) {
          outcomes[index - 1] = .failure(
            StoreError(StoreError.kind(forSQLState: code), sqlState: code))
          continue
        }
        let message = try Message(row: row)
        let isNew: Bool = try row.decode("created")
        if isNew { created.append((rooms[index - 1], message.seq)) }
        outcomes[index - 1] = .success((message, isNew))
      }
      // A room's seqs ascend with the sends' order; the announcer keeps each room's order.
      announcer.announce(created.sorted { $0.seq < $1.seq })
      return outcomes
    } catch {
      return sends.map { _ in .failure(error) }
    }
  }
}
