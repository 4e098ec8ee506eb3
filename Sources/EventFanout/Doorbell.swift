import Synchronization

/// Wakes every waiter at once: for consumers that poll a source themselves (the firehose)
/// and only need to know that something may have changed.
public final class Doorbell: Sendable {
  private let state = Mutex<State>(State())

  private struct State {
    var rings: UInt64 = 0
    var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextWaiter: UInt64 = 0
  }

  public init() {}

  /// How many times the bell has rung; pass it to `wait(after:timeout:)`.
  public var rings: UInt64 { state.withLock { $0.rings } }

  public func ring() {
    let waiters = state.withLock { state in
      state.rings += 1
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    for waiter in waiters { waiter.resume() }
  }

  /// Returns once the bell rang after `rings` was read, after `timeout`, or on cancellation.
  public func wait(after rings: UInt64, timeout: Duration) async {
    let id = state.withLock { state in
      defer { state.nextWaiter += 1 }
      return state.nextWaiter
    }
    let timer = Task {
      try? await Task.sleep(for: timeout)
      self.wake(id)
    }
    defer { timer.cancel() }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let ready = state.withLock { state in
          if state.rings != rings || Task.isCancelled { return true }
          state.waiters[id] = continuation
          return false
        }
        if ready { continuation.resume() }
      }
    } onCancel: {
      wake(id)
    }
  }

  private func wake(_ id: UInt64) {
    state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
  }
}
