import Synchronization

/// Turns a burst of point reads into a few set-based queries. A reconnect storm of thousands
/// of subscriptions would otherwise queue thousands of one-row queries behind a pool of ten
/// connections (and fail them at the acquire timeout); here at most `maxInFlight` queries run
/// at once, each carrying every key that arrived while the previous ones ran. A read that
/// finds a free slot goes out at once, alone: no added latency when the server is quiet.
final class ReadCoalescer<Key: Hashable & Sendable, Value: Sendable>: Sendable {
  /// Reads many keys in one query; a key missing from the result reads as nil.
  typealias BatchRead = @Sendable ([Key]) async throws -> [Key: Value]

  private struct Waiter: Sendable {
    var key: Key
    var continuation: CheckedContinuation<Value?, any Error>
  }

  private struct State: Sendable {
    var inFlight = 0
    var queue: [Waiter] = []
    var queueHead = 0

    mutating func take(_ limit: Int) -> [Waiter] {
      let end = min(queue.count, queueHead + limit)
      let batch = Array(queue[queueHead..<end])
      queueHead = end
      if queueHead == queue.count {
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
      }
      return batch
    }
  }

  private let state = Mutex(State())
  private let read: BatchRead
  let maxInFlight: Int
  let maxBatch: Int

  init(maxInFlight: Int, maxBatch: Int, read: @escaping BatchRead) {
    self.maxInFlight = maxInFlight
    self.maxBatch = maxBatch
    self.read = read
  }

  func value(for key: Key) async throws -> Value? {
    let runsNow = state.withLock { state in
      guard state.inFlight < maxInFlight else { return false }
      state.inFlight += 1
      return true
    }
    guard runsNow else {
      return try await withCheckedThrowingContinuation { continuation in
        let leads = state.withLock { state in
          state.queue.append(Waiter(key: key, continuation: continuation))
          // A batch may have finished between the check above and now: then nobody would
          // take the queue, so this caller starts a batch itself.
          guard state.inFlight < maxInFlight else { return false }
          state.inFlight += 1
          return true
        }
        if leads { Task { await self.drain() } }
      }
    }
    let result = await outcome(of: [key])
    handOver()
    return try result[key, default: .success(nil)].get()
  }

  /// After a batch: the reads that queued meanwhile go next (from a task), until none wait.
  private func handOver() {
    let next = state.withLock { state -> Bool in
      if state.queue.count > state.queueHead { return true }
      state.inFlight -= 1
      return false
    }
    if next { Task { await self.drain() } }
  }

  /// Runs queued batches on a slot already counted in `inFlight`, then releases it.
  private func drain() async {
    while true {
      let batch = state.withLock { state -> [Waiter] in
        let batch = state.take(maxBatch)
        if batch.isEmpty { state.inFlight -= 1 }
        return batch
      }
      if batch.isEmpty { return }
      let results = await outcome(of: batch.map(\.key))
      for waiter in batch {
        waiter.continuation.resume(with: results[waiter.key, default: .success(nil)])
      }
    }
  }

  private func outcome(of keys: [Key]) async -> [Key: Result<Value?, any Error>] {
    let unique = Array(Set(keys))
    do {
      let values = try await read(unique)
      return Dictionary(uniqueKeysWithValues: unique.map { ($0, .success(values[$0])) })
    } catch {
      return Dictionary(uniqueKeysWithValues: unique.map { ($0, .failure(error)) })
    }
  }
}
