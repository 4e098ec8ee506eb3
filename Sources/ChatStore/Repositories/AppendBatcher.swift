import Synchronization

/// Group commit for SendMessage. Appends to one room serialize on the room's lock, which a
/// transaction holds until its commit is flushed: one room could take only one commit per
/// flush. Here the first send to an idle room goes out at once, alone (no added latency);
/// sends that arrive while it is in flight wait, and then go together in one transaction
/// (`chat_append_messages_unannounced`), sharing its commit. Per-room order and idempotency hold: the
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
  private let pool: PostgresPool
  /// The most sends in one transaction.
  let maxBatch: Int

  init(pool: PostgresPool, maxBatch: Int = 64) {
    self.pool = pool
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

  /// After the commit, the bus hears of the new messages (`chat_announce_messages`, migration
  /// 12: a transaction of its own, so the appends' commits do not queue behind PostgreSQL's
  /// lock for NOTIFY). The messages are durable whatever happens here: an announcement that
  /// fails reaches the subscribers with the next position check instead, so it is logged, not
  /// thrown at a sender whose message is saved.
  private func announce(room: String, seqs: [Int64]) async {
    guard !seqs.isEmpty else { return }
    do {
      _ = try await pool.execute([
        "SELECT chat_announce_messages(\(room)::uuid, \(seqs.map(String.init))::bigint[])"
      ])
    } catch {
      pool.logger.warning(
        "new messages not announced: subscribers get them with the next position check",
        metadata: ["room": "\(room)", "seqs": "\(seqs)", "error": "\(error)"])
    }
  }

  /// One round trip: the appends in one transaction, then each message as its sender sees it;
  /// then their announcement. (Internal, not private: tests compose batches with it.)
  func execute(_ sends: [Send]) async -> [Outcome] {
    do {
      let room = try uuid(sends[0].roomID)
      let replies = try sends.map { send -> String in
        guard let reply = send.replyTo else { return "" }
        return try uuid(reply)
      }
      let senders = sends.map(\.sender)
      let clientIDs = sends.map(\.clientMsgID)
      let results = try await pool.execute([
        """
        SELECT idx, created, error_code FROM chat_append_messages_unannounced(
          \(room)::uuid, \(senders)::text[], \(clientIDs)::text[], \(sends.map(\.body))::text[],
          (SELECT array_agg(NULLIF(r, '')::uuid ORDER BY n)
           FROM unnest(\(replies)::text[]) WITH ORDINALITY AS x (r, n)))
        """,
        "SELECT * FROM chat_sent_messages(\(senders)::text[], \(clientIDs)::text[])",
      ])
      var errors: [Int: String] = [:]
      var created: [Int: Bool] = [:]
      for row in results[0].rows {
        let index: Int = try row.decode("idx")
        if let code = try row.decode("error_code", as: String?.self) {
          errors[index] = code
        } else {
          created[index] = try row.decode("created")
        }
      }
      var messages: [Int: Message] = [:]
      for row in results[1].rows { messages[try row.decode("idx")] = try Message(row: row) }
      await announce(
        room: room,
        seqs: created.filter(\.value).compactMap { messages[$0.key]?.seq }.sorted())
      return sends.indices.map { index in
        if let code = errors[index + 1] {
          return .failure(StoreError(StoreError.kind(forSQLState: code), sqlState: code))
        }
        guard let message = messages[index + 1] else {
          return .failure(StoreError(.internalError, serverMessage: "appended message missing"))
        }
        return .success((message, created[index + 1] ?? false))
      }
    } catch {
      return sends.map { _ in .failure(error) }
    }
  }
}
