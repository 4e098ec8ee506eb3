public import RPCCore
import Synchronization

/// One consumer of a feed: a stream handler that calls `next()` in a loop and writes what it
/// gets. It replays from the source, joins the live feed without a gap or a duplicate, and
/// falls back to the source whenever its bounded queue overflows.
///
/// - Important: call `close()` when the stream ends (a `defer` in the handler); it removes
///   the subscription from its feed at once.
public final class FeedSubscription: Sendable {
  // What a delivery touches first (Swift keeps a class's declaration order): the hub, the
  // lock and the state's live fields share the object's first cache lines, cold at 5,000
  // subscribers (docs/benchmarks.md, "session 10").
  let hub: FeedHub
  let state: Mutex<State>
  let feed: Feed
  /// The key of the feed.
  public let key: String
  /// Who subscribed (ephemeral events can exclude their author), nil for services.
  public let subscriber: String?

  enum Phase {
    /// Reading from the source, after `handedSeq`; the feed does not queue events for it.
    case replaying
    /// Joined: the feed queues events after `queuedSeq`.
    case live
    /// Ended by the hub: `next()` throws the error, or returns [] for a clean end.
    case finished((any Error)?)
  }

  /// The fields a live delivery reads come first (`deliverOnLane`).
  struct State {
    var phase = Phase.replaying
    /// The consumer waits with nothing queued: the lane may hand it events directly. Only
    /// while armed, so events handed directly never pass ones the consumer is still writing.
    var armed = false
    /// Takes live events on the consumer's lane (`deliverDirectly(on:_:)`), nil for none.
    var direct: (@Sendable (FeedItem) -> DirectDelivery)?
    /// Live: the last seq queued (or handed).
    var queuedSeq: UInt64
    /// The last seq handed to the consumer.
    var handedSeq: UInt64
    var lastOutput: ContinuousClock.Instant = .now
    var queue: [FeedItem] = []
    var queuedBytes = 0
    var synced = false
    var heartbeatDue = false
    var cancelled = false
    var waiter: CheckedContinuation<Void, any Error>?
  }

  init(
    key: String, after seq: UInt64, subscriber: String?, hub: FeedHub, feed: Feed
  ) {
    self.key = key
    self.subscriber = subscriber
    self.hub = hub
    self.feed = feed
    state = Mutex(State(queuedSeq: seq, handedSeq: seq))
  }

  /// The next outputs, in order: replayed events, `synced` once, then live events and
  /// heartbeats. Waits while there is nothing to send. Returns [] when the hub ended the
  /// subscription cleanly; throws when it ended it with an error, when the task is cancelled
  /// or when the source fails during a replay.
  public func next() async throws -> [FeedOutput] {
    while true {
      switch state.withLock({ $0.nextStep() }) {
      case .finish(let error?): throw error
      case .finish(nil): return []
      case .deliver(let outputs): return outputs
      case .wait: try await waitForWork()
      case .replay(let after): if let outputs = try await replay(after: after) { return outputs }
      }
    }
  }

  /// Removes the subscription from its feed. Idempotent.
  public func close() {
    hub.remove(self)
  }

  /// Lets the feed hand live events to `take` on `lane` while the consumer waits in `next()`
  /// with nothing queued, instead of waking the consumer's task per event: one job per lane
  /// then writes an event to every subscriber there. Whatever `take` defers (its stream is
  /// backed up, or the event needs the task) is queued for `next()` as usual, in order. Replays,
  /// `synced` and heartbeats still come from `next()`.
  ///
  /// `batch` is what the consumer's writes go out with (its connection): the lane's job takes
  /// a batch's subscribers one after another and flushes the batch after them.
  ///
  /// Call it once, before the first `next()`. `take` runs on `lane` with the subscription's
  /// lock held: it must write and return, never call back into the subscription.
  public func deliverDirectly(
    on lane: any WriteLane, batch: (any WriteBatch)? = nil,
    _ take: @escaping @Sendable (FeedItem) -> DirectDelivery
  ) {
    state.withLock { $0.direct = take }
    feed.attach(self, to: lane, batch: batch)
  }

  /// One page from the source; at its end, an attempt to join the live feed. Nil when there
  /// is nothing to hand out yet (the feed is ahead of what the page showed: read again).
  private func replay(after seq: UInt64) async throws -> [FeedOutput]? {
    if let recent = feed.joinFromMemory(self, after: seq) {
      let outputs = joined(recent, after: seq)
      return outputs.isEmpty ? nil : outputs
    }
    let page = try await feed.page(
      after: seq, source: hub.source, limit: hub.configuration.pageSize)
    let last = page.last?.seq ?? seq
    var outputs = page.map(FeedOutput.item)
    if page.count < hub.configuration.pageSize, let recent = feed.join(self, after: last) {
      outputs += joined(recent, after: last)
    } else {
      state.withLock { $0.handedSeq = max($0.handedSeq, last) }
    }
    if outputs.isEmpty { return nil }
    state.withLock { $0.lastOutput = .now }
    return outputs
  }

  /// The outputs of a join: the recent events the feed queued first, and `synced` the first
  /// time.
  private func joined(_ recent: [FeedItem], after seq: UInt64) -> [FeedOutput] {
    var outputs = recent.map(FeedOutput.item)
    let firstSync = state.withLock { state in
      defer { state.synced = true }
      return !state.synced
    }
    if firstSync { outputs.append(.synced(lastSeq: recent.last?.seq ?? seq)) }
    state.withLock { $0.lastOutput = .now }
    return outputs
  }

  private func waitForWork() async throws {
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<Void, any Error>) in
        let ready = state.withLock { state in
          if state.hasWork { return true }
          state.waiter = continuation
          return false
        }
        if ready { continuation.resume() }
      }
    } onCancel: {
      state.withLock { state in
        state.cancelled = true
        state.armed = false
        return state.takeWaiter()
      }?.resume()
    }
  }
}

// MARK: - Called by the feed and the hub, under the feed's lock

extension FeedSubscription {
  /// Queues sequenced events for a live subscriber. Returns the waiter to resume (after the
  /// locks are released).
  func offer(_ items: some Collection<FeedItem>) -> CheckedContinuation<Void, any Error>? {
    let limits = hub.configuration
    return state.withLock { state in
      guard case .live = state.phase else { return nil }
      state.enqueue(items, limits: limits)
      return state.takeWaiter()
    }
  }

  /// Queues an ephemeral event; dropped when the subscriber is not live or its queue is full
  /// (ephemeral events are never replayed, so dropping one loses nothing persisted).
  func offerEphemeral(_ item: FeedItem) -> CheckedContinuation<Void, any Error>? {
    let limits = hub.configuration
    return state.withLock { state -> CheckedContinuation<Void, any Error>? in
      guard case .live = state.phase else { return nil }
      return state.enqueueEphemeral(item, limits: limits) ? state.takeWaiter() : nil
    }
  }

  /// On the lane: sequenced events go straight to the consumer while it is armed, and are
  /// queued (waking it) from the first one it defers, or when it is not armed.
  func deliverOnLane(_ items: [FeedItem], now: ContinuousClock.Instant)
    -> CheckedContinuation<Void, any Error>?
  {
    let limits = hub.configuration
    return state.withLock { state in
      guard case .live = state.phase else { return nil }
      var next = items.startIndex
      if state.armed, let take = state.direct {
        while next < items.endIndex {
          let item = items[next]
          if item.seq > state.queuedSeq {
            guard item.seq == state.queuedSeq + 1 else {
              state.fallBehind()
              return state.takeWaiter()
            }
            guard take(item) == .sent else {
              state.armed = false
              break
            }
            state.queuedSeq = item.seq
            state.handedSeq = item.seq
            state.lastOutput = now
          }
          next += 1
        }
        if next == items.endIndex { return nil }
      }
      state.enqueue(items[next...], limits: limits)
      return state.takeWaiter()
    }
  }

  /// On the lane: an ephemeral event straight to an armed consumer, else as `offerEphemeral`.
  func deliverEphemeralOnLane(_ item: FeedItem, now: ContinuousClock.Instant)
    -> CheckedContinuation<Void, any Error>?
  {
    let limits = hub.configuration
    return state.withLock { state -> CheckedContinuation<Void, any Error>? in
      guard case .live = state.phase else { return nil }
      if state.armed, let take = state.direct {
        if take(item) == .sent {
          state.lastOutput = now
          return nil
        }
        state.armed = false
      }
      return state.enqueueEphemeral(item, limits: limits) ? state.takeWaiter() : nil
    }
  }

  /// Joins the live feed after `seq` with the feed's newer events already queued for it.
  func goLive(after seq: UInt64) -> Bool {
    state.withLock { state in
      guard case .replaying = state.phase else { return false }
      state.phase = .live
      state.handedSeq = seq
      state.queuedSeq = seq
      return true
    }
  }

  /// Sets the heartbeat flag of a live subscriber idle since before `idleSince`.
  func heartbeatIfIdle(since idleSince: ContinuousClock.Instant) -> CheckedContinuation<
    Void, any Error
  >? {
    state.withLock { state in
      guard case .live = state.phase, state.queue.isEmpty, state.lastOutput < idleSince else {
        return nil
      }
      state.heartbeatDue = true
      return state.takeWaiter()
    }
  }

  /// Ends the subscription: `next()` throws `error`, or returns [] when it is nil.
  func finish(_ error: (any Error)?) -> CheckedContinuation<Void, any Error>? {
    state.withLock { state in
      if case .finished = state.phase { return nil }
      state.phase = .finished(error)
      state.armed = false
      state.queue = []
      state.queuedBytes = 0
      return state.takeWaiter()
    }
  }
}

extension FeedSubscription.State {
  enum Step {
    case finish((any Error)?)
    case deliver([FeedOutput])
    case replay(after: UInt64)
    case wait
  }

  var hasWork: Bool {
    switch phase {
    case .finished, .replaying: true
    case .live: cancelled || !queue.isEmpty || heartbeatDue
    }
  }

  /// Queues sequenced events after `queuedSeq`; falls behind on a gap or past the limits.
  mutating func enqueue(
    _ items: some Collection<FeedItem>, limits: FeedHubConfiguration
  ) {
    for item in items where item.seq > queuedSeq {
      guard item.seq == queuedSeq + 1 else {
        fallBehind()
        return
      }
      queue.append(item)
      queuedBytes += item.message.bytes.count
      queuedSeq = item.seq
    }
    if queuedBytes > limits.subscriberQueueBytes || queue.count > limits.subscriberQueueItems {
      fallBehind()
    }
  }

  /// Queues an ephemeral event if the queue has room; false when it was dropped.
  mutating func enqueueEphemeral(_ item: FeedItem, limits: FeedHubConfiguration)
    -> Bool
  {
    guard queue.count < limits.subscriberQueueItems,
      queuedBytes + item.message.bytes.count <= limits.subscriberQueueBytes
    else { return false }
    queue.append(item)
    queuedBytes += item.message.bytes.count
    return true
  }

  mutating func nextStep() -> Step {
    armed = false
    if cancelled { return .finish(CancellationError()) }
    switch phase {
    case .finished(let error): return .finish(error)
    case .replaying: return .replay(after: handedSeq)
    case .live:
      if !queue.isEmpty {
        let items = queue
        queue = []
        queuedBytes = 0
        if let last = items.last(where: { $0.seq != 0 }) { handedSeq = last.seq }
        heartbeatDue = false
        lastOutput = .now
        return .deliver(items.map(FeedOutput.item))
      }
      if heartbeatDue {
        heartbeatDue = false
        lastOutput = .now
        return .deliver([.heartbeat])
      }
      // Everything handed out so far has been written: the lane may write the next events.
      armed = direct != nil
      return .wait
    }
  }

  /// Drops the queue: the consumer reads from the source after the last seq it was handed.
  mutating func fallBehind() {
    armed = false
    queue = []
    queuedBytes = 0
    queuedSeq = handedSeq
    phase = .replaying
  }

  mutating func takeWaiter() -> CheckedContinuation<Void, any Error>? {
    defer { waiter = nil }
    return waiter
  }
}
