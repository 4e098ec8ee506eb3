import Synchronization

/// Fan-out for one kind of feed on this process: subscriptions by key, wake-ups from the bus,
/// ephemeral events, heartbeats. The cost of an event is proportional to the subscribers of
/// its feed; feeds live in independently locked shards.
///
/// The bus only says that a feed has grown (`announce`); the feed reads the new events from
/// the source once and hands the same encoded bytes to every live subscriber. Whatever a
/// subscriber misses (a listener reconnect, an overflowing queue) it reads from the source,
/// so nothing persisted is ever lost.
public final class FeedHub: Sendable {
  public let source: any FeedSource
  public let configuration: FeedHubConfiguration
  private let shards: [Shard]
  private let subscriptions = Atomic<Int>(0)

  public init(source: any FeedSource, configuration: FeedHubConfiguration = FeedHubConfiguration())
  {
    self.source = source
    self.configuration = configuration
    shards = (0..<max(1, configuration.shards)).map { _ in Shard() }
  }

  /// The subscriptions open right now.
  public var subscriptionCount: Int { subscriptions.load(ordering: .relaxed) }

  /// Subscribes to feed `key` after `seq`: the subscription replays from the source, then
  /// follows the feed live.
  public func subscribe(to key: String, after seq: UInt64, subscriber: String?)
    -> FeedSubscription
  {
    shard(key).feeds.withLock { feeds in
      let feed = feeds[key] ?? Feed(key: key, recentCapacity: configuration.recentCapacity)
      feeds[key] = feed
      let subscription = FeedSubscription(
        key: key, after: seq, subscriber: subscriber, hub: self, feed: feed)
      feed.state.withLock { $0.subscribers[ObjectIdentifier(subscription)] = subscription }
      subscriptions.add(1, ordering: .relaxed)
      return subscription
    }
  }

  /// The bus says feed `key` has an event `seq`. Ignored when nobody here follows the feed.
  public func announce(_ key: String, seq: UInt64) {
    guard let feed = shard(key).feeds.withLock({ $0[key] }) else { return }
    feed.announce(seq, source: source, pageSize: configuration.pageSize)
  }

  /// An ephemeral event (seq 0) for the live subscribers of `key`, except `excluded`.
  public func publish(_ item: FeedItem, to key: String, except excluded: String? = nil) {
    guard let feed = shard(key).feeds.withLock({ $0[key] }) else { return }
    feed.publish(item, except: excluded)
  }

  /// Whether anyone here follows feed `key`.
  public func isFollowed(_ key: String) -> Bool {
    shard(key).feeds.withLock { $0[key] != nil }
  }

  /// After the bus lost messages (a listener reconnect): asks the source where every
  /// followed feed is, so each reads what it missed.
  public func resync() async throws {
    let feeds = allFeeds().filter { $0.loadedSeq != nil }
    // Bounded statements: a process may follow a hundred thousand feeds.
    for start in stride(from: 0, to: feeds.count, by: Self.resyncBatch) {
      let batch = feeds[start..<min(feeds.count, start + Self.resyncBatch)]
      let last = try await source.lastSeqs(of: batch.map(\.key))
      for feed in batch {
        if let seq = last[feed.key] {
          feed.announce(seq, source: source, pageSize: configuration.pageSize)
        }
      }
    }
  }

  /// `resync()` until it succeeds or the task is cancelled. A listener that reconnected after a
  /// database restart usually finds the pool still failing; if the resync gave up then, what
  /// the bus lost would reach each feed only with the feed's next announcement: never, in a
  /// room that went quiet. Waits `initialDelay` after the first failure, doubling up to
  /// `maxDelay`; `failed` hears every error.
  public func resyncRetrying(
    initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(2),
    failed: (any Error) -> Void
  ) async {
    var delay = initialDelay
    while !Task.isCancelled {
      do {
        try await resync()
        return
      } catch {
        failed(error)
      }
      do { try await Task.sleep(for: delay) } catch { return }
      delay = min(delay * 2, maxDelay)
    }
  }

  /// Ends every subscription (at shutdown): `next()` throws `error`, or returns [].
  public func finishAll(_ error: (any Error)?) {
    for feed in allFeeds() { feed.finishAll(error) }
  }

  /// Sends heartbeats to idle subscribers until the task is cancelled.
  public func runHeartbeats() async {
    let interval = configuration.heartbeatInterval
    while true {
      do { try await Task.sleep(for: interval / 4) } catch { return }
      let idleSince = ContinuousClock.now - interval
      for feed in allFeeds() { feed.heartbeat(idleSince: idleSince) }
    }
  }

  /// Looks at every feed every `interval` until the task is cancelled: a feed behind what the
  /// bus announced with no read under way, or with a read that has brought nothing for
  /// `stallTimeout`, starts a new read, and `found` hears of it (see `FeedStall`).
  public func runWatchdog(
    interval: Duration = .seconds(1), stallTimeout: Duration = .seconds(30),
    found: @Sendable (FeedStall) -> Void
  ) async {
    while true {
      do { try await Task.sleep(for: interval) } catch { return }
      let now = ContinuousClock.now
      for feed in allFeeds() {
        if let stall = feed.watch(
          now: now, stallTimeout: stallTimeout, source: source, pageSize: configuration.pageSize)
        {
          found(stall)
        }
      }
    }
  }

  /// Asks the source where every followed feed is every `interval` until the task is
  /// cancelled (`resync()`, one query per hub): the bus is the fast path, this bounds how long
  /// any announcement it loses without a reconnect (or any bug on the way) can hold a feed
  /// back. `failed` hears the errors; the next check tries again.
  public func runPositionChecks(every interval: Duration, failed: (any Error) -> Void) async {
    while true {
      do { try await Task.sleep(for: interval) } catch { return }
      do { try await resync() } catch { failed(error) }
    }
  }

  func remove(_ subscription: FeedSubscription) {
    let key = subscription.key
    let removed = shard(key).feeds.withLock { feeds in
      let feed = subscription.feed
      return feed.state.withLock { state in
        guard state.remove(ObjectIdentifier(subscription)) else { return false }
        if state.isUnfollowed, feeds[key] === feed { feeds[key] = nil }
        return true
      }
    }
    if removed { subscriptions.subtract(1, ordering: .relaxed) }
    subscription.finish(nil)?.resume()
  }

  static var resyncBatch: Int { 1000 }

  /// A lock over some of the feeds (a class: a `Mutex` cannot live in an array).
  private final class Shard: Sendable {
    let feeds = Mutex<[String: Feed]>([:])
  }

  private func shard(_ key: String) -> Shard {
    shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
  }

  private func allFeeds() -> [Feed] {
    shards.flatMap { shard in shard.feeds.withLock { Array($0.values) } }
  }
}
