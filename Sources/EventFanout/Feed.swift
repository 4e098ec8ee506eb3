import RPCCore
import Synchronization

/// One feed (a room's event log, a user's notification log) with its live subscribers on
/// this process. The feed reads each new event from the source once, keeps the last few, and
/// queues the same encoded bytes for every live subscriber.
final class Feed: Sendable {
  typealias Waiter = CheckedContinuation<Void, any Error>

  let key: String
  let state: Mutex<State>

  struct State {
    /// Every event up to this seq has been offered to the live subscribers; nil until the
    /// first subscriber joins (its replay, read after the feed existed, sets it).
    var loadedSeq: UInt64?
    /// The highest seq the bus announced.
    var knownSeq: UInt64 = 0
    var fetching = false
    /// When the read under way started or last brought a page (the watchdog's clock).
    var fetchProgress: ContinuousClock.Instant = .now
    /// Which read is current: a read the watchdog replaced keeps running but is ignored.
    var fetchGeneration: UInt64 = 0
    var recent: RecentItems
    /// Live subscribers whose task takes every event from their queue.
    var subscribers: [ObjectIdentifier: FeedSubscription] = [:]
    /// Subscribers that take events directly on their lane, by lane: one job per lane and
    /// event writes to all of them.
    var lanes: [ObjectIdentifier: LaneGroup] = [:]
    /// Where each of them is: its lane's key and its batch's key in that lane's group.
    var placements: [ObjectIdentifier: (lane: ObjectIdentifier, batch: ObjectIdentifier)] = [:]
    /// Replay reads under way, by the seq they start after.
    var pages: [UInt64: Task<[FeedItem], any Error>] = [:]
  }

  /// A lane's direct subscribers, by batch (`WriteBatch`: their connection), so that a lane
  /// job writes one connection's streams after another and sends each connection's bytes as
  /// soon as its streams have the event. Subscribers without a batch share the lane's key.
  ///
  /// `publish` and `Accepted.deliver` each write their own loop over a group's members: one
  /// shared behind a closure per subscriber cost about 8% more CPU per delivery at 5,000
  /// subscribers (docs/benchmarks.md, "session 6").
  struct LaneGroup {
    let lane: any WriteLane
    var batches: [ObjectIdentifier: BatchGroup] = [:]
    private(set) var memberCount = 0

    init(lane: any WriteLane) { self.lane = lane }

    mutating func add(
      _ subscription: FeedSubscription, batch: (any WriteBatch)?, key: ObjectIdentifier
    ) {
      batches[key, default: BatchGroup(batch: batch)].members[ObjectIdentifier(subscription)] =
        subscription
      memberCount += 1
    }

    mutating func remove(_ id: ObjectIdentifier, batch key: ObjectIdentifier) {
      guard batches[key]?.members.removeValue(forKey: id) != nil else { return }
      memberCount -= 1
      if batches[key]?.members.isEmpty == true { batches[key] = nil }
    }

    var members: [FeedSubscription] { batches.values.flatMap(\.members.values) }
  }

  struct BatchGroup {
    let batch: (any WriteBatch)?
    var members: [ObjectIdentifier: FeedSubscription] = [:]
  }

  init(key: String, recentCapacity: Int) {
    self.key = key
    state = Mutex(State(recent: RecentItems(capacity: recentCapacity)))
  }

  /// A subscriber at the end of its replay, after `seq`, joins: it goes live with the recent
  /// events it lacks (returned), or gets nil when the feed is further ahead than its memory
  /// (the subscriber reads another page from the source).
  func join(_ subscription: FeedSubscription, after seq: UInt64) -> [FeedItem]? {
    join(subscription, after: seq, replayed: true)
  }

  /// A subscriber that has read nothing from the source joins from the feed's memory: when the
  /// feed is live already and `seq` is at or past what it holds in its ring. Every event after
  /// the feed's position will be announced to it, so nothing can fall between. Nil otherwise
  /// (the subscriber replays from the source). A reconnect storm near the live edge thus costs
  /// no database reads for replay.
  func joinFromMemory(_ subscription: FeedSubscription, after seq: UInt64)
    -> [FeedItem]?
  {
    join(subscription, after: seq, replayed: false)
  }

  private func join(_ subscription: FeedSubscription, after seq: UInt64, replayed: Bool)
    -> [FeedItem]?
  {
    let (recent, fetch) = state.withLock { state -> ([FeedItem]?, UInt64?) in
      if !replayed, state.loadedSeq == nil { return (nil, nil) }
      guard let loaded = state.loadedSeq, loaded > seq else {
        // The replay read the source after the feed existed, so any later event will be
        // announced to the feed: a feed nobody has joined yet may start where the replay
        // ended. A feed that lags behind the replay reads on; the subscriber skips what it has.
        if state.loadedSeq == nil { state.loadedSeq = seq }
        state.knownSeq = max(state.knownSeq, seq)
        _ = subscription.goLive(after: seq)
        return ([], state.startFetchIfBehind())
      }
      guard let missing = state.recent.after(seq) else { return (nil, nil) }
      _ = subscription.goLive(after: loaded)
      return (missing, nil)
    }
    if let fetch {
      startFetching(
        generation: fetch, source: subscription.hub.source,
        pageSize: subscription.hub.configuration.pageSize)
    }
    return recent
  }

  /// Moves a subscriber to its lane's group, in its batch (`FeedSubscription.deliverDirectly`).
  func attach(
    _ subscription: FeedSubscription, to lane: any WriteLane, batch: (any WriteBatch)?
  ) {
    let id = ObjectIdentifier(subscription)
    let laneKey = ObjectIdentifier(lane)
    let batchKey = batch.map(ObjectIdentifier.init) ?? laneKey
    state.withLock { state in
      guard let subscription = state.subscribers.removeValue(forKey: id) else { return }
      state.lanes[laneKey, default: LaneGroup(lane: lane)].add(
        subscription, batch: batch, key: batchKey)
      state.placements[id] = (laneKey, batchKey)
    }
  }

  /// A replay's page of the source after `seq`. Subscribers that replay from the same point at
  /// the same time (a burst of new subscriptions to a room, a reconnect storm after a restart)
  /// share one read instead of each taking a pool connection for the same rows.
  func page(after seq: UInt64, source: any FeedSource, limit: Int) async throws -> [FeedItem] {
    let read = state.withLock { state in
      if let read = state.pages[seq] { return read }
      let read = Task { try await source.items(of: key, after: seq, limit: limit) }
      state.pages[seq] = read
      return read
    }
    defer { state.withLock { if $0.pages[seq] == read { $0.pages[seq] = nil } } }
    return try await read.value
  }

  /// The bus announced `seq`: read up to it unless a read is already under way.
  func announce(_ seq: UInt64, source: any FeedSource, pageSize: Int) {
    let fetch = state.withLock { state -> UInt64? in
      state.knownSeq = max(state.knownSeq, seq)
      return state.startFetchIfBehind()
    }
    if let fetch { startFetching(generation: fetch, source: source, pageSize: pageSize) }
  }

  /// The watchdog's look at the feed. A feed behind what the bus announced with no read under
  /// way, or whose read has brought nothing for `stallTimeout`, would leave its subscribers
  /// silent (heartbeats only) until its next announcement: a new read starts, and the caller
  /// hears why. Neither should happen; this bounds the harm if a path to it remains.
  func watch(
    now: ContinuousClock.Instant, stallTimeout: Duration, source: any FeedSource, pageSize: Int
  )
    -> FeedStall?
  {
    let found = state.withLock { state -> (FeedStall, UInt64)? in
      guard let loaded = state.loadedSeq, state.knownSeq > loaded else { return nil }
      let kind: FeedStall.Kind
      if !state.fetching {
        kind = .idleBehind
      } else if now - state.fetchProgress >= stallTimeout {
        kind = .readStuck(for: now - state.fetchProgress)
      } else {
        return nil
      }
      let stall = FeedStall(
        key: key, kind: kind, loadedSeq: loaded, knownSeq: state.knownSeq,
        subscribers: state.subscriberCount)
      return (stall, state.beginFetch(now: now))
    }
    guard let (stall, generation) = found else { return nil }
    startFetching(generation: generation, source: source, pageSize: pageSize)
    return stall
  }

  /// An ephemeral event for every live subscriber but `excluded`.
  func publish(_ item: FeedItem, except excluded: String?) {
    let (waiters, lanes) = state.withLock { state in
      let waiters = state.subscribers.values.compactMap { subscription -> Waiter? in
        if let excluded, subscription.subscriber == excluded { return nil }
        return subscription.offerEphemeral(item)
      }
      return (waiters, state.lanes)
    }
    for waiter in waiters { waiter.resume() }
    for group in lanes.values {
      let batches = group.batches
      group.lane.execute {
        let now = ContinuousClock.now
        for batch in batches.values {
          for subscription in batch.members.values {
            if let excluded, subscription.subscriber == excluded { continue }
            subscription.deliverEphemeralOnLane(item, now: now)?.resume()
          }
          batch.batch?.flushBatch()
        }
      }
    }
  }

  func heartbeat(idleSince: ContinuousClock.Instant) {
    let waiters = state.withLock { state in
      state.allSubscribers.compactMap { $0.heartbeatIfIdle(since: idleSince) }
    }
    for waiter in waiters { waiter.resume() }
  }

  func finishAll(_ error: (any Error)?) {
    let waiters = state.withLock { state in state.allSubscribers.compactMap { $0.finish(error) } }
    for waiter in waiters { waiter.resume() }
  }

  var loadedSeq: UInt64? { state.withLock { $0.loadedSeq } }

  /// Reads announced events page by page and offers each to every live subscriber, until the
  /// feed has caught up with what the bus announced. Source failures retry with backoff while
  /// anyone is subscribed.
  private func startFetching(generation: UInt64, source: any FeedSource, pageSize: Int) {
    Task {
      var backoff = Duration.milliseconds(50)
      while let from = state.withLock({ state -> UInt64? in
        state.fetchGeneration == generation ? state.loadedSeq : nil
      }) {
        let items: [FeedItem]
        do {
          items = try await source.items(of: key, after: from, limit: pageSize)
        } catch {
          let abandoned = state.withLock { state -> Bool in
            guard state.fetchGeneration == generation else { return true }
            if state.isUnfollowed { state.fetching = false }
            return state.isUnfollowed
          }
          if abandoned { return }
          try? await Task.sleep(for: backoff)
          backoff = min(backoff * 2, .seconds(2))
          continue
        }
        let (accepted, more) = state.withLock { state -> (Feed.Accepted, Bool) in
          guard state.fetchGeneration == generation else { return (.none, false) }
          return state.accept(items, pageSize: pageSize)
        }
        accepted.deliver()
        if !more { return }
      }
    }
  }
}

extension Feed.State {
  /// Marks a read as started when the feed is behind what the bus announced; returns the
  /// read's generation.
  mutating func startFetchIfBehind() -> UInt64? {
    guard !fetching, let loaded = loadedSeq, knownSeq > loaded else { return nil }
    return beginFetch(now: .now)
  }

  /// Marks a new read as the current one (replacing any under way).
  mutating func beginFetch(now: ContinuousClock.Instant) -> UInt64 {
    fetching = true
    fetchProgress = now
    fetchGeneration &+= 1
    return fetchGeneration
  }

  /// Every subscriber, whichever way it takes events.
  var allSubscribers: [FeedSubscription] {
    Array(subscribers.values) + lanes.values.flatMap(\.members)
  }

  var subscriberCount: Int {
    lanes.values.reduce(subscribers.count) { $0 + $1.memberCount }
  }

  /// Nobody on this process follows the feed any more.
  var isUnfollowed: Bool { subscribers.isEmpty && lanes.isEmpty }

  /// Removes a subscriber; false when it was not there.
  mutating func remove(_ id: ObjectIdentifier) -> Bool {
    if subscribers.removeValue(forKey: id) != nil { return true }
    // Found by its placement and changed in place: changing the members while a loop over
    // `lanes` held their group copied all of them, for every subscriber removed (closing a
    // lane's 2,500 subscribers copied 3 million entries, under the feed's lock).
    guard let (lane, batch) = placements.removeValue(forKey: id) else { return false }
    lanes[lane]?.remove(id, batch: batch)
    if lanes[lane]?.memberCount == 0 { lanes[lane] = nil }
    return true
  }

  /// Takes a page read from the source: the events that follow `loadedSeq` go to the ring and
  /// to every live subscriber. Returns what to deliver once the lock is released and whether
  /// to read again.
  mutating func accept(_ items: [FeedItem], pageSize: Int)
    -> (accepted: Feed.Accepted, more: Bool)
  {
    var loaded = loadedSeq ?? 0
    let fresh = items.drop { $0.seq <= loaded }
    var accepted: [FeedItem] = []
    accepted.reserveCapacity(fresh.count)
    for item in fresh where item.seq == loaded + 1 {
      recent.append(item)
      accepted.append(item)
      loaded = item.seq
    }
    loadedSeq = loaded
    fetchProgress = .now
    var delivery = Feed.Accepted.none
    if !accepted.isEmpty {
      delivery.items = accepted
      delivery.waiters.reserveCapacity(subscribers.count)
      for subscription in subscribers.values {
        if let waiter = subscription.offer(accepted) { delivery.waiters.append(waiter) }
      }
      delivery.lanes = Array(lanes.values)
    }
    // An empty page means the announcement was ahead of what is visible (a user row that
    // no longer exists, say): stop rather than spin; the next announcement reads again.
    if items.isEmpty { knownSeq = loaded }
    let more = !items.isEmpty && (items.count == pageSize || knownSeq > loaded)
    if !more { fetching = false }
    return (delivery, more)
  }
}

extension Feed {
  /// New events to hand out once the feed's lock is released: the queued subscribers' tasks
  /// to wake, and one job per lane for the subscribers that take events there.
  struct Accepted {
    var items: [FeedItem] = []
    var waiters: [Waiter] = []
    var lanes: [LaneGroup] = []

    static var none: Accepted { Accepted() }

    func deliver() {
      for waiter in waiters { waiter.resume() }
      let items = items
      for group in lanes {
        let batches = group.batches
        group.lane.execute {
          let now = ContinuousClock.now
          for batch in batches.values {
            for subscription in batch.members.values {
              subscription.deliverOnLane(items, now: now)?.resume()
            }
            batch.batch?.flushBatch()
          }
        }
      }
    }
  }
}
