import Synchronization

/// Group commit for SendMessage. A send's transaction holds its room's lock until its commit
/// is flushed, and each transaction costs the database a fixed part (its statements' start-up,
/// the commit) several times what one more send in it costs. So sends share transactions:
/// - a send queues, and the first send of a burst queues a flush as a task of its own, which
///   runs after the tasks already queued (a send alone goes after one task hop);
/// - a flush shares the waiting sends among the batches that can start now (`BatchQueue`),
///   each one `chat_send_batch` call: one transaction, one commit, each room's lock taken in
///   one order (migration 15), and the bus told of the new messages by that commit
///   (`chat_send_batch_announced`, migration 17);
/// - the end of a batch answers its senders and queues the next flush behind them, so the
///   senders that one batch answered go out together again rather than the first of them
///   alone (which cost the database about half of what the other thirty did);
/// - at most `maxInFlight` batches run at once, and a room is in at most one of them, so a
///   room's sends never wait on each other's locks and take their seqs in arrival order.
/// Idempotency holds inside a batch as across batches: a retry finds the original. A batch
/// runs in a task of its own, not in its senders' tasks: a cancelled caller's send still goes.
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

  private struct State {
    var queue: BatchQueue<Waiter>
    /// A flush task is queued and has not run yet.
    var flushScheduled = false

    /// Whether the caller must queue a flush: none is queued, and a slot is free (with every
    /// slot busy, the end of a batch queues the next flush).
    mutating func scheduleFlush() -> Bool {
      guard !flushScheduled, queue.inFlight < queue.maxInFlight else { return false }
      flushScheduled = true
      return true
    }
  }

  private let state: Mutex<State>
  private let pool: PostgresPool

  init(pool: PostgresPool, maxBatch: Int = 64, maxInFlight: Int) {
    self.pool = pool
    state = Mutex(State(queue: BatchQueue(maxBatch: maxBatch, maxInFlight: maxInFlight)))
  }

  func append(_ send: Send) async throws -> (message: Message, created: Bool) {
    try await withCheckedThrowingContinuation { continuation in
      let schedules = state.withLock { state in
        state.queue.enqueue(Waiter(send: send, continuation: continuation), room: send.roomID)
        return state.scheduleFlush()
      }
      if schedules { Task { await flush() } }
    }
  }

  /// Starts what the queue lets start now: the first batch in this task, any others in tasks
  /// of their own.
  private func flush() async {
    let batches = state.withLock { state in
      state.flushScheduled = false
      return state.queue.takeBatches()
    }
    guard let first = batches.first else { return }
    for batch in batches.dropFirst() { Task { await run(batch) } }
    await run(first)
  }

  /// Runs a batch, frees its slot and rooms, and answers its senders; the next flush goes
  /// behind the tasks that answering resumed, so that their next sends join it.
  private func run(_ batch: [Waiter]) async {
    let outcomes = await execute(batch.map(\.send))
    let schedules = state.withLock { state in
      state.queue.finish(rooms: batch.lazy.map(\.send.roomID))
      return state.scheduleFlush()
    }
    for (waiter, outcome) in zip(batch, outcomes) {
      waiter.continuation.resume(with: outcome)
    }
    if schedules { Task { await flush() } }
  }

  /// One round trip: the appends and their announcement in one transaction, and each message
  /// as its sender sees it. (Internal, not private: tests compose batches with it.)
  func execute(_ sends: [Send]) async -> [Outcome] {
    do {
      let rooms = try sends.map { try uuid($0.roomID) }
      let replies = try sends.map { try $0.replyTo.map(uuid) }
      let senders = sends.map(\.sender)
      let clientIDs = sends.map(\.clientMsgID)
      // One statement (migrations 15 and 17): the append, its NOTIFYs and every reply.
      let rows = try await pool.query(
        """
        SELECT * FROM chat_send_batch_announced(
          \(rooms)::uuid[], \(senders)::text[], \(clientIDs)::text[], \(sends.map(\.body))::text[],
          \(replies)::uuid[])
        """
      ).rows
      var outcomes = [Outcome](
        repeating: .failure(StoreError(.internalError, serverMessage: "appended message missing")),
        count: sends.count)
      for row in rows {
        let index: Int = try row.decode("idx")
        guard outcomes.indices.contains(index - 1) else { continue }
        if let code = try row.decode("error_code", as: String?.self) {
          outcomes[index - 1] = .failure(
            StoreError(StoreError.kind(forSQLState: code), sqlState: code))
          continue
        }
        outcomes[index - 1] = .success((try Message(row: row), try row.decode("created")))
      }
      return outcomes
    } catch {
      return sends.map { _ in .failure(error) }
    }
  }
}
