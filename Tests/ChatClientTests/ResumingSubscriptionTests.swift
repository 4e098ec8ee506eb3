import RPCCore
import Synchronization
import Testing

@testable import ChatClient

/// The resume logic on its own: scripted attempts stand in for the server (the whole client
/// against a real chatd, across a restart, is the chatctl interop test).
@Suite struct ResumingSubscriptionTests {
  var fast: ReconnectPolicy {
    var policy = ReconnectPolicy()
    policy.initialDelay = .milliseconds(1)
    policy.maxDelay = .milliseconds(4)
    return policy
  }

  @Test func resumesAfterTheLastSeqDeliveredAndSkipsRepeats() async throws {
    let calls = Mutex<[UInt64]>([])
    let subscription = ResumingSubscription<UInt64>(after: 0, policy: fast) { after, deliver in
      let attempt = calls.withLock { calls in
        calls.append(after)
        return calls.count
      }
      switch attempt {
      case 1:
        for seq: UInt64 in 1...3 { try await deliver(seq, seq) }
        throw RPCError(code: .unavailable, message: "server restarting")
      case 2:
        // A server that replays from before the resume point: repeats are dropped.
        for seq: UInt64 in 2...5 { try await deliver(seq, seq) }
        try await deliver(0, 0)  // ephemeral events always pass
        throw RPCError(code: .internalError, message: "connection reset")
      default:
        for seq in (after + 1)...(after + 2) { try await deliver(seq, seq) }
        throw RPCError(code: .notFound, message: "room not found")
      }
    }
    var seen: [UInt64] = []
    do {
      for try await value in subscription { seen.append(value) }
      Issue.record("a permanent error ends the sequence with that error")
    } catch let error as RPCError {
      #expect(error.code == .notFound)
    }
    #expect(seen == [1, 2, 3, 4, 5, 0, 6, 7])
    #expect(calls.withLock { $0 } == [0, 3, 5])
  }

  @Test func aSlowConsumerHoldsTheReaderBack() async throws {
    let delivered = Atomic<Int>(0)
    let subscription = ResumingSubscription<UInt64>(after: 0, policy: fast) { _, deliver in
      for seq in 1...10_000 as ClosedRange<UInt64> {
        try await deliver(seq, seq)
        delivered.add(1, ordering: .relaxed)
      }
      try await Task.sleep(for: .seconds(60))
    }
    var iterator = subscription.makeAsyncIterator()
    _ = try await iterator.next()
    try await Task.sleep(for: .milliseconds(50))
    // The buffer holds 256 events: the reader waits instead of reading all 10,000.
    #expect(delivered.load(ordering: .relaxed) <= 258)
  }
}
