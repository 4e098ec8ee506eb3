public import RPCCore

/// When and how fast subscriptions come back after their stream ends.
public struct ReconnectPolicy: Sendable {
  /// The first wait after a failure; it doubles up to `maxDelay`, with jitter.
  public var initialDelay: Duration = .milliseconds(100)
  public var maxDelay: Duration = .seconds(5)

  public init() {}

  /// Errors that end a subscription for good: the request or the caller is wrong, and
  /// retrying would fail the same way. Everything else (UNAVAILABLE from a restarting or
  /// draining server, a broken connection, RESOURCE_EXHAUSTED, ...) is retried.
  public static let permanentCodes: Set<Status.Code> = [
    .invalidArgument, .notFound, .permissionDenied, .unauthenticated, .outOfRange,
    .unimplemented, .failedPrecondition,
  ]

  func delay(after failures: Int) -> Duration {
    var delay = initialDelay
    for _ in 1..<max(1, failures) where delay < maxDelay { delay *= 2 }
    delay = min(delay, maxDelay)
    // Full jitter over the upper half spreads reconnecting clients after a restart.
    return delay / 2 + delay / 2 * Double.random(in: 0...1)
  }
}
