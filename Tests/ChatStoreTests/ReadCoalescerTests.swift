import Synchronization
import Testing

@testable import ChatStore

@Suite struct ReadCoalescerTests {
  /// What the batch reader saw: how many reads ran at once at most, and every batch.
  final class Probe: Sendable {
    let running = Atomic<Int>(0)
    let maxRunning = Atomic<Int>(0)
    let batches = Mutex<[[Int]]>([])
  }

  @Test func aBurstRunsInFewBoundedBatchesAndEveryCallerGetsItsOwnValue() async throws {
    let probe = Probe()
    let coalescer = ReadCoalescer<Int, String>(maxInFlight: 2, maxBatch: 100) { keys in
      let now = probe.running.add(1, ordering: .relaxed).newValue
      probe.maxRunning.max(now, ordering: .relaxed)
      probe.batches.withLock { $0.append(keys) }
      try await Task.sleep(for: .milliseconds(5))
      probe.running.subtract(1, ordering: .relaxed)
      // Odd keys do not exist.
      return Dictionary(uniqueKeysWithValues: keys.filter { $0 % 2 == 0 }.map { ($0, "v\($0)") })
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for key in 0..<2_000 {
        group.addTask {
          let value = try await coalescer.value(for: key % 1_500)
          #expect(value == (key % 2 == 0 ? "v\(key % 1_500)" : nil))
        }
      }
      try await group.waitForAll()
    }
    let batches = probe.batches.withLock { $0 }
    #expect(probe.maxRunning.load(ordering: .relaxed) <= 2)
    #expect(batches.allSatisfy { $0.count <= 100 && Set($0).count == $0.count })
    #expect(Set(batches.joined()) == Set(0..<1_500))
    #expect(batches.count < 2_000)
  }

  @Test func aFailedReadFailsItsBatchOnlyAndTheNextCallsRecover() async throws {
    let fail = Atomic<Bool>(true)
    let coalescer = ReadCoalescer<Int, Int>(maxInFlight: 1, maxBatch: 10) { keys in
      if fail.load(ordering: .relaxed) { throw StoreError(.unavailable) }
      return Dictionary(uniqueKeysWithValues: keys.map { ($0, $0 * 10) })
    }
    await #expect(throws: StoreError.self) { try await coalescer.value(for: 1) }
    fail.store(false, ordering: .relaxed)
    #expect(try await coalescer.value(for: 2) == 20)
  }
}
