import Synchronization

/// Group commit for SendMessage. Appends to one room serialize on the room's lock, which a
/// transaction holds until its commit is flushed: one room could take only one commit per
/// flush. Here the first send to an idle room goes out at once, alone (no added latency);
/// sends that arrive while it is in flight wait, and then go together in one transaction
/// (`chat_send_messages`), sharing its commit. Per-room order and idempotency hold: the
/// batch appends in arrival order under the room lock, and a retry inside a batch finds the
/// original.
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

  /// Rooms with a batch in flight, and the sends waiting for the next one.
  private let rooms = Mutex<[String: [Waiter]]>([:])
  /// Tells the bus about each batch's new messages after its commit, beside the room's next
  /// batch rather than before it.
  private let announcer: RoomEventAnnouncer
  private let pool: PostgresPool
  /// The most sends in one transaction.
  let maxBatch: Int

  init(pool: PostgresPool, announcer: RoomEventAnnouncer, maxBatch: Int = 64) {
    self.pool = pool
    self.announcer = announcer
    self.maxBatch = maxBatch
  }

  func append(_ send: Send) async throws -> (message: Message, created: Bool) {
    let leads = rooms.withLock { rooms in
      guard rooms[send.roomID] == nil else { return false }
      rooms[send.roomID] = []
      return true
    }
    guard leads else {
      return try await withCheckedThrowingContinuation { continuation in
        let queued = rooms.withLock { rooms in
          guard rooms[send.roomID] != nil else { return false }
          rooms[send.roomID]!.append(Waiter(send: send, continuation: continuation))
          return true
        }
        // The batch in flight ended meanwhile: lead a new one from a task of our own.
        if !queued {
          Task { continuation.resume(with: await self.appendAlone(send)) }
        }
      }
    }
    let outcome = await execute([send])[0]
    handOver(send.roomID)
    return try outcome.get()
  }

  /// Runs one send as a batch of its own, leading the room's queue like `append` does.
  private func appendAlone(_ send: Send) async -> Outcome {
    do { return .success(try await append(send)) } catch { return .failure(error) }
  }

  /// After a batch: the sends that queued meanwhile go next, from a task; or the room is idle.
  private func handOver(_ roomID: String) {
    let next = takeBatch(roomID)
    guard !next.isEmpty else { return }
    Task {
      var batch = next
      while !batch.isEmpty {
        let outcomes = await execute(batch.map(\.send))
        for (waiter, outcome) in zip(batch, outcomes) { waiter.continuation.resume(with: outcome) }
        batch = takeBatch(roomID)
      }
    }
  }

  /// Up to `maxBatch` waiting sends; an empty result marks the room idle.
  private func takeBatch(_ roomID: String) -> [Waiter] {
    rooms.withLock { rooms in
      guard let waiting = rooms[roomID], !waiting.isEmpty else {
        rooms[roomID] = nil
        return []
      }
      let batch = Array(waiting.prefix(maxBatch))
      rooms[roomID] = Array(waiting.dropFirst(batch.count))
      return batch
    }
  }

  /// One round trip: the appends in one transaction and each message as its sender sees it;
  /// their announcement follows in the background. (Internal, not private: tests compose
  /// batches with it.)
  func execute(_ sends: [Send]) async -> [Outcome] {
    do {
      let room = try uuid(sends[0].roomID)
      let replies = try sends.map { try $0.replyTo.map(uuid) }
      let senders = sends.map(\.sender)
      let clientIDs = sends.map(\.clientMsgID)
      // One statement (chat_send_messages, migration 13): the append and every reply.
      let rows = try await pool.query(
        """
        SELECT * FROM chat_send_messages(
          \(room)::uuid, \(senders)::text[], \(clientIDs)::text[], \(sends.map(\.body))::text[],
          \(replies)::uuid[])
        """
      ).rows
      var outcomes = [Outcome](
        repeating: .failure(StoreError(.internalError, serverMessage: "appended message missing")),
        count: sends.count)
      var seqs: [Int64] = []
      for row in rows {
        let index: Int = try row.decode("idx")
        guard outcomes.indices.contains(index - 1) else { continue }
        if let code = try row.decode("error_code", as: String?.self) {
          outcomes[index - 1] = .failure(
            StoreError(StoreError.kind(forSQLState: code), sqlState: code))
          continue
        }
        let message = try Message(row: row)
        let created: Bool = try row.decode("created")
        if created { seqs.append(message.seq) }
        outcomes[index - 1] = .success((message, created))
      }
      announcer.announce(room: room, seqs: seqs.sorted())
      return outcomes
    } catch {
      return sends.map { _ in .failure(error) }
    }
  }
}
