/// A token bucket: `burst` tokens when full, refilled at `perSecond`; each request takes one.
struct TokenBucket: Sendable {
  private var tokens: Double
  private var updated: ContinuousClock.Instant

  init(rate: RateLimitConfiguration.Rate, now: ContinuousClock.Instant) {
    tokens = rate.burst
    updated = now
  }

  /// Takes a token; when there is none, how long until there is one.
  mutating func take(rate: RateLimitConfiguration.Rate, now: ContinuousClock.Instant)
    -> Duration?
  {
    let elapsed = now - updated
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    tokens = min(rate.burst, tokens + max(0, seconds) * rate.perSecond)
    updated = now
    if tokens >= 1 {
      tokens -= 1
      return nil
    }
    return .seconds((1 - tokens) / rate.perSecond)
  }
}
