import Synchronization

/// The instance's request rate toward OneSignal: requests leave at most `rate` per second,
/// evenly spaced, and none leave during a pause (a 429's Retry-After applies to the whole app,
/// not just the push that got it).
final class SendPacer: Sendable {
  private let spacing: Duration
  private let next = Mutex(ContinuousClock.now)

  init(requestsPerSecond: Double) {
    let rate = requestsPerSecond > 0 ? requestsPerSecond : 1_000_000
    spacing = .nanoseconds(Int64(1e9 / rate))
  }

  /// Waits for this request's slot.
  func wait() async {
    let now = ContinuousClock.now
    let slot = next.withLock { next in
      let slot = Swift.max(next, now)
      next = slot + spacing
      return slot
    }
    if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
  }

  func pause(for duration: Duration) {
    let until = ContinuousClock.now + duration
    next.withLock { $0 = Swift.max($0, until) }
  }
}
