import EventFanout
import RPCCore
import Synchronization
import Testing

@Suite struct FeedHubTests {
  @Test func replaysThenSyncsThenFollowsLive() async throws {
    let log = MemoryLog()
    for _ in 1...5 { log.append("room") }
    let hub = FeedHub(source: log)
    let subscription = hub.subscribe(to: "room", after: 2, subscriber: "ana")
    defer { subscription.close() }

    let replay = try await subscription.collect { !$0.syncedAt().isEmpty }
    #expect(replay.seqs() == [3, 4, 5])
    #expect(replay.syncedAt() == [5])

    for _ in 6...8 { hub.announce("room", seq: log.append("room")) }
    let live = try await subscription.collect { $0.seqs().last == 8 }
    #expect(live.seqs() == [6, 7, 8])
  }

  @Test func concurrentWritersAndLateJoinersSeeEveryEventOnceInOrder() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let total: UInt64 = 400
    try await withThrowingTaskGroup(of: [UInt64].self) { group in
      for index in 0..<12 {
        group.addTask {
          // Joiners start at different points, some after part of the log exists.
          try await Task.sleep(for: .microseconds(200 * index))
          let from = index % 3 == 0 ? 0 : log.count("room") / 2
          let subscription = hub.subscribe(to: "room", after: from, subscriber: nil)
          defer { subscription.close() }
          let outputs = try await subscription.collect { $0.seqs().last == total }
          let seqs = outputs.seqs()
          #expect(seqs == Array(from + 1...total), "joiner \(index) from \(from)")
          return seqs
        }
      }
      for writer in 0..<4 {
        group.addTask {
          for _ in 0..<(total / 4) {
            hub.announce("room", seq: log.append("room"))
            if writer == 0 { await Task.yield() }
          }
          return []
        }
      }
      for try await _ in group {}
    }
    #expect(hub.subscriptionCount == 0)
  }

  @Test func aSlowReaderFallsBackToTheSourceAndLosesNothing() async throws {
    let log = MemoryLog()
    var configuration = FeedHubConfiguration()
    configuration.subscriberQueueItems = 8
    configuration.recentCapacity = 4
    let hub = FeedHub(source: log, configuration: configuration)
    let slow = hub.subscribe(to: "room", after: 0, subscriber: "slow")
    let fast = hub.subscribe(to: "room", after: 0, subscriber: "fast")
    defer {
      slow.close()
      fast.close()
    }
    _ = try await slow.collect { !$0.syncedAt().isEmpty }
    _ = try await fast.collect { !$0.syncedAt().isEmpty }

    let readsBefore = log.reads.load(ordering: .relaxed)
    for _ in 1...100 {
      hub.announce("room", seq: log.append("room"))
      // The fast one keeps up while the slow one does not read at all.
      _ = try await fast.collect { $0.seqs().last == log.count("room") }
    }
    let late = try await slow.collect { $0.seqs().last == 100 }
    #expect(late.seqs() == Array(1...100))
    #expect(log.reads.load(ordering: .relaxed) > readsBefore + 1, "the slow one read the source")
  }

  @Test func missedAnnouncementsAreRecoveredByResync() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }

    log.append("room")
    log.append("room")  // never announced: the bus lost them
    try await hub.resync()
    let outputs = try await subscription.collect { $0.seqs().last == 2 }
    #expect(outputs.seqs() == [1, 2])
  }

  @Test func aResyncThatFailsIsRetriedUntilTheSourceAnswers() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }

    log.append("room")  // lost by the bus while the listener reconnected
    log.lastSeqsFailures.store(3, ordering: .relaxed)  // and the database still starting
    let failures = Mutex(0)
    await hub.resyncRetrying(initialDelay: .milliseconds(1)) { _ in
      failures.withLock { $0 += 1 }
    }
    #expect(failures.withLock { $0 } == 3)
    let outputs = try await subscription.collect { $0.seqs().last == 1 }
    #expect(outputs.seqs() == [1])
  }

  @Test(.timeLimit(.minutes(1))) func theWatchdogReplacesAReadThatNeverReturns() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }

    log.hangingReads.store(1, ordering: .relaxed)
    hub.announce("room", seq: log.append("room"))
    hub.announce("room", seq: log.append("room"))  // the read under way covers it
    let stalls = Mutex<[FeedStall]>([])
    let stallTimeout = Duration.milliseconds(200)
    let watchdog = Task {
      await hub.runWatchdog(interval: .milliseconds(5), stallTimeout: stallTimeout) { stall in
        stalls.withLock { $0.append(stall) }
      }
    }
    defer { watchdog.cancel() }
    let outputs = try await subscription.collect { $0.seqs().last == 2 }
    #expect(outputs.seqs() == [1, 2])
    let first = stalls.withLock { $0.first }
    #expect(first?.loadedSeq == 0)
    #expect(first?.knownSeq == 2)
    if case .readStuck(let duration) = first?.kind {
      #expect(duration >= stallTimeout)
    } else {
      Issue.record("expected a stuck read first, got \(String(describing: first))")
    }
    // A feed that has caught up is left alone, however long its last read was.
    let found = stalls.withLock { $0.count }
    try await Task.sleep(for: stallTimeout * 2)
    #expect(stalls.withLock { $0.count } == found)
  }

  @Test(.timeLimit(.minutes(1))) func positionChecksBringWhatTheBusNeverAnnounced() async throws {
    let log = MemoryLog()
    var configuration = FeedHubConfiguration()
    configuration.shards = 1
    let hub = FeedHub(source: log, configuration: configuration)
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }

    log.append("room")
    log.append("room")  // committed, never announced, and no reconnect to resync after
    log.lastSeqsFailures.store(1, ordering: .relaxed)
    let failures = Atomic<Int>(0)
    let checks = Task {
      await hub.runPositionChecks(every: .milliseconds(10)) { _ in
        failures.add(1, ordering: .relaxed)
      }
    }
    defer { checks.cancel() }
    let outputs = try await subscription.collect { $0.seqs().last == 2 }
    #expect(outputs.seqs() == [1, 2])
    #expect(
      failures.load(ordering: .relaxed) == 1, "a failed check is reported, the next one reads")
  }

  @Test func ephemeralEventsSkipTheirAuthorAndCarryNoSeq() async throws {
    let log = MemoryLog()
    let hub = FeedHub(source: log)
    let ana = hub.subscribe(to: "room", after: 0, subscriber: "ana")
    let ben = hub.subscribe(to: "room", after: 0, subscriber: "ben")
    defer {
      ana.close()
      ben.close()
    }
    _ = try await ana.collect { !$0.syncedAt().isEmpty }
    _ = try await ben.collect { !$0.syncedAt().isEmpty }

    let typing = FeedItem(seq: 0, message: EncodedMessage(bytes: [1]), note: Label("typing"))
    hub.publish(typing, to: "room", except: "ana")
    hub.announce("room", seq: log.append("room"))

    let benSees = try await ben.collect { $0.seqs() == [1] }
    #expect(benSees.count == 2)
    if case .item(let first) = benSees.first { #expect((first.note as? Label)?.text == "typing") }
    let anaSees = try await ana.collect { $0.seqs() == [1] }
    #expect(anaSees.count == 1, "the author does not get their own typing event")
  }

  @Test func idleSubscribersGetHeartbeats() async throws {
    var configuration = FeedHubConfiguration()
    configuration.heartbeatInterval = .milliseconds(100)
    let hub = FeedHub(source: MemoryLog(), configuration: configuration)
    let beats = Task { await hub.runHeartbeats() }
    defer { beats.cancel() }
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }
    let outputs = try await subscription.next()
    guard case .heartbeat = outputs.first else {
      Issue.record("expected a heartbeat, got \(outputs)")
      return
    }
  }

  @Test func cancellingAWaitingConsumerEndsItAndFreesTheSubscription() async throws {
    let hub = FeedHub(source: MemoryLog())
    let reader = Task {
      let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
      defer { subscription.close() }
      while true { _ = try await subscription.next() }
    }
    while hub.subscriptionCount == 0 { await Task.yield() }
    try await Task.sleep(for: .milliseconds(20))
    reader.cancel()
    await #expect(throws: CancellationError.self) { try await reader.value }
    #expect(hub.subscriptionCount == 0)
    #expect(!hub.isFollowed("room"))
  }

  @Test func finishAllEndsEverySubscription() async throws {
    let hub = FeedHub(source: MemoryLog())
    let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { subscription.close() }
    _ = try await subscription.collect { !$0.syncedAt().isEmpty }
    struct ShuttingDown: Error {}
    hub.finishAll(ShuttingDown())
    await #expect(throws: ShuttingDown.self) { try await subscription.next() }
  }
}

@Suite struct FeedJoinFromMemoryTests {
  @Test func aBurstOfReplaysFromOnePointSharesTheirReads() async throws {
    let log = MemoryLog(latency: .milliseconds(200))
    for _ in 1...5 { log.append("room") }
    let hub = FeedHub(source: log)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<200 {
        group.addTask {
          let subscription = hub.subscribe(to: "room", after: 0, subscriber: nil)
          defer { subscription.close() }
          let replay = try await subscription.collect { !$0.syncedAt().isEmpty }
          #expect(replay.seqs() == [1, 2, 3, 4, 5])
        }
      }
      try await group.waitForAll()
    }
    // One read per page would be 200; shared, it is one, or a few when a replay starts
    // after the first read finished (those join from memory or share the next read).
    #expect(log.reads.load(ordering: .relaxed) < 20)
  }

  @Test func subscribersNearTheLiveEdgeJoinWithoutReadingTheSource() async throws {
    let log = MemoryLog()
    for _ in 1...10 { log.append("room") }
    let hub = FeedHub(source: log)
    let first = hub.subscribe(to: "room", after: 0, subscriber: nil)
    defer { first.close() }
    _ = try await first.collect { !$0.syncedAt().isEmpty }
    for _ in 11...20 { hub.announce("room", seq: log.append("room")) }
    _ = try await first.collect { $0.seqs().last == 20 }

    let reads = log.reads.load(ordering: .relaxed)
    // Resuming within the feed's ring, and at its head: no source read at all.
    for after: UInt64 in [14, 21] {
      let head = log.count("room")
      let late = hub.subscribe(to: "room", after: after, subscriber: nil)
      let outputs = try await late.collect { !$0.syncedAt().isEmpty }
      #expect(outputs.seqs() == Array(after + 1..<head + 1))
      #expect(outputs.syncedAt() == [head])
      hub.announce("room", seq: log.append("room"))
      #expect(try await late.collect { !$0.seqs().isEmpty }.seqs() == [log.count("room")])
      _ = try await first.collect { $0.seqs().last == log.count("room") }
      late.close()
    }
    #expect(log.reads.load(ordering: .relaxed) == reads + 2, "only the feed's own reads")
  }
}
