public import RPCCore

/// Events of a sequenced stream that resubscribes by itself. Iterate it once; stopping the
/// iteration (or cancelling the iterating task) ends the subscription.
public struct ResumingSubscription<Event: Sendable>: AsyncSequence, Sendable {
  public typealias Element = Event
  /// One subscription attempt: streams events after a seq, handing each with its seq (0 for
  /// ephemeral events) to `deliver`, until the stream ends or fails.
  typealias Attempt =
    @Sendable (_ after: UInt64, _ deliver: @escaping @Sendable (Event, UInt64) async throws -> Void)
    async throws -> Void

  let after: UInt64
  let policy: ReconnectPolicy
  let attempt: Attempt

  init(after: UInt64, policy: ReconnectPolicy, attempt: @escaping Attempt) {
    self.after = after
    self.policy = policy
    self.attempt = attempt
  }

  public func makeAsyncIterator() -> Iterator {
    Iterator(self)
  }

  /// Owns the reading task: it ends when the iterator goes away.
  public final class Iterator: AsyncIteratorProtocol {
    private let buffer = EventBuffer<Event>(capacity: 256)
    private let reader: Task<Void, Never>

    init(_ subscription: ResumingSubscription) {
      let buffer = buffer
      reader = Task { await subscription.run(into: buffer) }
    }

    deinit {
      reader.cancel()
      // Wakes a reader waiting for room in the buffer, so it sees the cancellation.
      buffer.finish(.success(()))
    }

    public func next() async throws -> Event? {
      try await withTaskCancellationHandler {
        try await buffer.next()
      } onCancel: { [reader] in
        reader.cancel()
      }
    }
  }

  private func run(into buffer: EventBuffer<Event>) async {
    let progress = Progress(after)
    var failures = 0
    while !Task.isCancelled {
      progress.delivered = false
      do {
        try await attempt(progress.last) { event, seq in
          if seq != 0 {
            // A replay never repeats what was delivered; this guards the resume anyway.
            guard seq > progress.last else { return }
            progress.last = seq
          }
          progress.delivered = true
          await buffer.send(event)
        }
        failures = 0
      } catch let error as RPCError where !ReconnectPolicy.permanentCodes.contains(error.code) {
        failures += 1
      } catch is CancellationError {
        break
      } catch let error as RPCError {
        buffer.finish(.failure(error))
        return
      } catch {
        failures += 1
      }
      if progress.delivered { failures = 1 }
      if Task.isCancelled { break }
      do { try await Task.sleep(for: policy.delay(after: Swift.max(1, failures))) } catch { break }
    }
    buffer.finish(.failure(CancellationError()))
  }
}

/// What the current attempt delivered, shared with its delivery closure.
private final class Progress: @unchecked Sendable {
  // Only the reading task touches it (the closure runs within its attempt).
  var last: UInt64
  var delivered = false
  init(_ last: UInt64) { self.last = last }
}
