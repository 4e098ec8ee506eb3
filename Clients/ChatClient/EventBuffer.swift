import Synchronization

/// A bounded hand-off between the task that reads a subscription's streams and the caller's
/// iteration: the reader waits while the caller has `capacity` events unread, so a caller
/// that stops reading stops the stream (and HTTP/2 flow control holds the server back).
final class EventBuffer<Event: Sendable>: Sendable {
  private let capacity: Int
  private let state = Mutex(State())

  private struct State {
    var events: [Event] = []
    var head = 0
    var end: Result<Void, any Error>?
    var consumer: CheckedContinuation<Void, Never>?
    var producer: CheckedContinuation<Void, Never>?
  }

  init(capacity: Int) { self.capacity = max(1, capacity) }

  /// Waits while the buffer is full; drops the event once the buffer has ended (the consumer
  /// is gone).
  func send(_ event: Event) async {
    while true {
      let ready: Bool? = state.withLock { state in
        if state.end != nil { return nil }
        return state.events.count - state.head < capacity
      }
      guard let ready else { return }
      if ready { break }
      await withCheckedContinuation { continuation in
        let waitNeeded = state.withLock { state in
          guard state.end == nil, state.events.count - state.head >= capacity else { return false }
          state.producer = continuation
          return true
        }
        if !waitNeeded { continuation.resume() }
      }
    }
    let consumer = state.withLock { state in
      state.events.append(event)
      defer { state.consumer = nil }
      return state.consumer
    }
    consumer?.resume()
  }

  func finish(_ end: Result<Void, any Error>) {
    let (consumer, producer) = state.withLock { state in
      if state.end == nil { state.end = end }
      defer {
        state.consumer = nil
        state.producer = nil
      }
      return (state.consumer, state.producer)
    }
    consumer?.resume()
    producer?.resume()
  }

  /// The next event, nil at the end; throws the error the buffer was finished with.
  func next() async throws -> Event? {
    while true {
      let step: Result<Event?, any Error>? = state.withLock { state in
        if state.head < state.events.count {
          let event = state.events[state.head]
          state.head += 1
          if state.head == state.events.count {
            state.events.removeAll(keepingCapacity: true)
            state.head = 0
          }
          return .success(event)
        }
        switch state.end {
        case .success?: return .success(nil)
        case .failure(let error)?: return .failure(error)
        case nil: return nil
        }
      }
      if let step {
        let producer = state.withLock { state in
          defer { state.producer = nil }
          return state.producer
        }
        producer?.resume()
        return try step.get()
      }
      await withCheckedContinuation { continuation in
        let waitNeeded = state.withLock { state in
          guard state.head == state.events.count, state.end == nil else { return false }
          state.consumer = continuation
          return true
        }
        if !waitNeeded { continuation.resume() }
      }
    }
  }
}
