import Synchronization

/// The buckets of every user and class in this process.
final class RateLimiter: Sendable {
  private struct Key: Hashable {
    var user: String
    var rpcClass: RateLimitConfiguration.RPCClass
  }

  let configuration: RateLimitConfiguration
  private let buckets = Mutex<[Key: TokenBucket]>([:])
  private let capacity: Int

  init(configuration: RateLimitConfiguration, capacity: Int = 200_000) {
    self.configuration = configuration
    self.capacity = capacity
  }

  /// nil when the request may go ahead, else how long the caller should wait.
  func take(
    user: String, rpcClass: RateLimitConfiguration.RPCClass,
    now: ContinuousClock.Instant = .now
  ) -> Duration? {
    guard let rate = configuration.rates[rpcClass] else { return nil }
    let key = Key(user: user, rpcClass: rpcClass)
    return buckets.withLock { buckets in
      // A crude bound on memory: forgetting every bucket only refills them.
      if buckets.count >= capacity, buckets[key] == nil { buckets.removeAll() }
      var bucket = buckets[key] ?? TokenBucket(rate: rate, now: now)
      let wait = bucket.take(rate: rate, now: now)
      buckets[key] = bucket
      return wait
    }
  }
}
