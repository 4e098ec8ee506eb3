import Dispatch
import RPCCore
import Synchronization
import Testing

@testable import EventFanout

/// Subscribers that take live events on their lane (`deliverDirectly`), as the server's
/// streams do, with the task's `next()` loop for everything else.
@Suite(.timeLimit(.minutes(1))) struct DirectDeliveryTests {
  @Test func liveEventsGoStraightToTheLaneInOrder() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let stream = RecordingStream()
    try await stream.follow(hub) { subscription in
      try await subscription.waitUntilArmed()
      let total: UInt64 = 300
      await withTaskGroup(of: Void.self) { group in
        for _ in 0..<3 {
          group.addTask {
            for _ in 0..<(total / 3) { hub.announce("room", seq: log.append("room")) }
          }
        }
      }
      try await stream.wait(through: total)
    }
    #expect(stream.seqs == Array(1...300))
    #expect(stream.count(.lane) > 0, "the lane wrote live events itself")
  }

  @Test func aBackedUpStreamHandsItsEventsToTheTaskWithoutReordering() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let stream = RecordingStream()
    try await stream.follow(hub) { subscription in
      // Writable, backed up, writable again: while backed up, every event waits for the task;
      // the lane takes over again once the task has caught up.
      for (phase, accepting) in [true, false, true].enumerated() {
        try await subscription.waitUntilArmed()
        stream.accepting.store(accepting, ordering: .relaxed)
        for _ in 0..<50 { hub.announce("room", seq: log.append("room")) }
        try await stream.wait(through: UInt64(50 * (phase + 1)))
      }
    }
    #expect(stream.seqs == Array(1...150))
    #expect(stream.count(.lane) > 0)
    #expect(stream.count(.task) >= 50)
  }

  @Test func aStreamWhoseQueueOverflowsReadsTheRestFromTheSource() async throws {
    let log = MemoryLog()
    var configuration = FeedHubConfiguration()
    configuration.subscriberQueueItems = 8
    configuration.recentCapacity = 4
    let hub = FeedHub(source: log, configuration: configuration)
    let stream = RecordingStream()
    let subscription = stream.subscribe(hub, after: 0)
    defer { subscription.close() }
    try await stream.readUntilSynced(subscription)

    // Its task is busy elsewhere (not waiting in next()), so the lane queues for it.
    let readsBefore = log.reads.load(ordering: .relaxed)
    for _ in 1...100 { hub.announce("room", seq: log.append("room")) }
    while !subscription.isReplaying { try await Task.sleep(for: .milliseconds(1)) }
    let consumer = stream.consume(subscription)
    defer { consumer.cancel() }
    try await stream.wait(through: 100)
    #expect(stream.seqs == Array(1...100))
    #expect(log.reads.load(ordering: .relaxed) > readsBefore + 1, "it read the source")
  }

  @Test func ephemeralEventsReachArmedStreamsButNotTheirAuthor() async throws {
    let hub = FeedHub(source: MemoryLog())
    let ana = RecordingStream()
    let ben = RecordingStream()
    let anaSubscription = ana.subscribe(hub, after: 0, as: "ana")
    let benSubscription = ben.subscribe(hub, after: 0, as: "ben")
    defer {
      anaSubscription.close()
      benSubscription.close()
    }
    try await ana.readUntilSynced(anaSubscription)
    try await ben.readUntilSynced(benSubscription)
    let consumers = [ana.consume(anaSubscription), ben.consume(benSubscription)]
    defer { for consumer in consumers { consumer.cancel() } }
    try await anaSubscription.waitUntilArmed()
    try await benSubscription.waitUntilArmed()

    let typing = FeedItem(seq: 0, message: EncodedMessage(bytes: [1]), note: Label("typing"))
    hub.publish(typing, to: "room", except: "ana")
    try await ben.wait(writes: 1)
    #expect(ben.writes.withLock { $0.map(\.seq) } == [0])
    #expect(ben.count(.lane) == 1)
    // The lane has run ben's job; ana's would have come in the same one.
    ana.lane.queue.sync {}
    #expect(ana.writes.withLock { $0.isEmpty }, "the author does not get their own typing")
  }

  @Test func closingAStreamOnALaneFreesTheFeed() async throws {
    let hub = FeedHub(source: MemoryLog())
    let stream = RecordingStream()
    let subscription = stream.subscribe(hub, after: 0)
    try await stream.readUntilSynced(subscription)
    #expect(hub.subscriptionCount == 1)
    subscription.close()
    #expect(hub.subscriptionCount == 0)
    #expect(!hub.isFollowed("room"))
  }

  @Test func aLaneJobWritesOneBatchAfterAnotherAndFlushesEach() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let lane = QueueLane()
    let order = RecordingBatch.Log()
    let batches = (0..<3).map { RecordingBatch("c\($0)", log: order) }
    let streams = (0..<9).map { RecordingStream(lane: lane, batch: batches[$0 % 3]) }
    var subscriptions: [FeedSubscription] = []
    var consumers: [Task<Void, any Error>] = []
    defer {
      for consumer in consumers { consumer.cancel() }
      for subscription in subscriptions { subscription.close() }
    }
    for stream in streams {
      let subscription = stream.subscribe(hub, after: 0)
      subscriptions.append(subscription)
      try await stream.readUntilSynced(subscription)
      consumers.append(stream.consume(subscription))
    }
    for subscription in subscriptions { try await subscription.waitUntilArmed() }
    hub.announce("room", seq: log.append("room"))
    for stream in streams { try await stream.wait(through: 1) }
    lane.queue.sync {}
    // One job: a connection's three streams, then its flush; one connection after another.
    let entries = order.entries.withLock { $0 }
    #expect(entries.count == 12)
    for start in stride(from: 0, to: entries.count, by: 4) {
      let name = entries[start].split(separator: " ").last.map(String.init) ?? ""
      #expect(
        Array(entries[start..<min(start + 4, entries.count)])
          == ["write \(name)", "write \(name)", "write \(name)", "flush \(name)"])
    }
    #expect(Set(entries.filter { $0.hasPrefix("flush") }) == ["flush c0", "flush c1", "flush c2"])
    #expect(streams.allSatisfy { $0.count(.lane) == 1 })
  }

  @Test func closingStreamsThatShareALaneRemovesEachFromItsGroup() {
    let hub = FeedHub(source: MemoryLog())
    let lanes = [QueueLane(), QueueLane()]
    // Four connections per lane, and streams without one.
    let log = RecordingBatch.Log()
    let batches = (0..<8).map { RecordingBatch("c\($0)", log: log) }
    let subscriptions = (0..<400).map { index in
      let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
      subscription.deliverDirectly(
        on: lanes[index % 2], batch: index % 10 == 0 ? nil : batches[index % 8]
      ) { _ in .sent }
      return subscription
    }
    let feed = subscriptions[0].feed
    func members() -> [Int?] {
      feed.state.withLock { state in lanes.map { state.lanes[ObjectIdentifier($0)]?.memberCount }
      }
    }
    func tidy() -> Bool {
      feed.state.withLock { state in
        state.lanes.values.allSatisfy { group in
          group.batches.values.allSatisfy { !$0.members.isEmpty }
            && group.batches.values.reduce(0) { $0 + $1.members.count } == group.memberCount
        } && state.placements.count == state.subscriberCount
      }
    }
    #expect(members() == [200, 200])
    #expect(tidy())
    // Every stream of the first lane, half of the second's; twice, as a handler may.
    let closing = subscriptions.indices.filter { $0 % 4 != 3 }
    for _ in 0..<2 { for index in closing { subscriptions[index].close() } }
    #expect(members() == [nil, 100], "an emptied group goes, the other keeps the rest")
    #expect(tidy(), "an emptied batch goes, and nothing is left of a closed stream")
    #expect(hub.subscriptionCount == 100)
    for subscription in subscriptions { subscription.close() }
    #expect(hub.subscriptionCount == 0)
    #expect(!hub.isFollowed("room"))
  }
}

/// A connection's stand-in: its streams' lane writes and its flushes go to a shared log.
final class RecordingBatch: WriteBatch {
  final class Log: Sendable {
    let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
  }

  let name: String
  let log: Log

  init(_ name: String, log: Log) {
    self.name = name
    self.log = log
  }

  func flushBatch() { log.add("flush \(name)") }
}

/// A serial lane on a dispatch queue, standing in for an event loop.
final class QueueLane: WriteLane {
  let queue = DispatchQueue(label: "lane")
  func execute(_ work: @escaping @Sendable () -> Void) { queue.async(execute: work) }
}

/// A stream that records what was written to it and by whom: the lane, or the task.
final class RecordingStream: Sendable {
  enum Writer: Sendable { case lane, task }
  struct Write: Sendable {
    let seq: UInt64
    let by: Writer
  }

  let lane: QueueLane
  /// The connection it stands for, with the log its lane writes go to as well; nil for none.
  let batch: RecordingBatch?
  let writes = Mutex<[Write]>([])
  /// When false, the stream is backed up: the lane's writes are deferred to the task.
  let accepting = Atomic<Bool>(true)

  init(lane: QueueLane = QueueLane(), batch: RecordingBatch? = nil) {
    self.lane = lane
    self.batch = batch
  }

  func subscribe(_ hub: FeedHub, after seq: UInt64, as subscriber: String? = nil)
    -> FeedSubscription
  {
    let subscription = hub.subscribe(to: "room", after: seq, subscriber: subscriber)
    subscription.deliverDirectly(on: lane, batch: batch) { [self] item in
      dispatchPrecondition(condition: .onQueue(lane.queue))
      guard accepting.load(ordering: .relaxed) else { return .deferred }
      writes.withLock { $0.append(Write(seq: item.seq, by: .lane)) }
      if let batch { batch.log.add("write \(batch.name)") }
      return .sent
    }
    return subscription
  }

  var seqs: [UInt64] { writes.withLock { $0.map(\.seq).filter { $0 != 0 } } }

  func count(_ writer: Writer) -> Int { writes.withLock { $0.filter { $0.by == writer }.count } }

  /// Subscribes, reads the replay up to `synced`, then runs the task's loop beside `body`.
  func follow(
    _ hub: FeedHub, _ body: (FeedSubscription) async throws -> Void
  ) async throws {
    let subscription = subscribe(hub, after: 0)
    defer { subscription.close() }
    try await readUntilSynced(subscription)
    let consumer = consume(subscription)
    defer { consumer.cancel() }
    try await body(subscription)
  }

  func readUntilSynced(_ subscription: FeedSubscription) async throws {
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }
  }

  /// The task's loop: writes whatever `next()` hands out, until cancelled.
  func consume(_ subscription: FeedSubscription) -> Task<Void, any Error> {
    Task {
      while true {
        for output in try await subscription.next() {
          if case .item(let item) = output {
            writes.withLock { $0.append(Write(seq: item.seq, by: .task)) }
          }
        }
      }
    }
  }

  func wait(through seq: UInt64) async throws {
    while (seqs.last ?? 0) < seq { try await Task.sleep(for: .milliseconds(1)) }
  }

  func wait(writes count: Int) async throws {
    while writes.withLock({ $0.count }) < count { try await Task.sleep(for: .milliseconds(1)) }
  }
}

extension FeedSubscription {
  /// Its task waits in next() with nothing queued: the lane writes the next events itself.
  func waitUntilArmed() async throws {
    while !state.withLock({ $0.armed }) { try await Task.sleep(for: .milliseconds(1)) }
  }

  /// It dropped its queue and will read from the source.
  var isReplaying: Bool {
    if case .replaying = state.withLock({ $0.phase }) { return true }
    return false
  }
}
