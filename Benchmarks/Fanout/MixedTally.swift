import BenchSupport
import RPCCore
import Synchronization

/// Everything the users and their streams measure, shared by all of them.
final class MixedTally: Sendable {
  /// Latency of every operation that succeeded within the measured window, per operation.
  let operations = Dictionary(
    uniqueKeysWithValues: MixedOperation.allCases.map { ($0, Latencies()) })
  /// Send-to-receipt of measured messages on SubscribeRoom streams (other members' only).
  let roomLatency = Latencies()
  /// Send-to-receipt of measured messages as room activity on SubscribeUser streams.
  let userLatency = Latencies()
  /// Operations and messages from this instant on (monotonic nanoseconds) are measured;
  /// before it the day warms up.
  let measureFrom = Atomic<UInt64>(.max)
  /// Every message of the run that reached a room stream, warm-up included (the loss check).
  let roomDeliveries = Atomic<Int>(0)
  /// Deliveries owed to room streams: for each message sent, the other members' streams on
  /// its room. A stream being resubscribed still owes them (it resumes after its last seq).
  let expectedRoomDeliveries = Atomic<Int>(0)
  let userDeliveries = Atomic<Int>(0)
  let typingReceived = Atomic<Int>(0)
  /// Persisted events a stream saw again or out of order (must stay 0).
  let disordered = Atomic<Int>(0)
  /// Failures by "operation CODE", over the whole day (warm-up included).
  private let errors = Mutex<[String: Int]>([:])

  func isMeasured(_ nanos: UInt64) -> Bool { nanos >= measureFrom.load(ordering: .relaxed) }

  func succeeded(_ operation: MixedOperation, startedAt start: UInt64) {
    guard isMeasured(start) else { return }
    operations[operation]!.add([MonotonicClock.nanos() - start])
  }

  /// `what` is an operation's or a stream's name.
  func failed(_ what: String, _ error: any Error) {
    let code = (error as? RPCError).map { "\($0.code)" } ?? "\(type(of: error))"
    errors.withLock { $0["\(what) \(code)", default: 0] += 1 }
  }

  var errorCount: Int { errors.withLock { $0.values.reduce(0, +) } }

  /// `operation CODE=count; ...`, most frequent first, or `none`.
  var errorSummary: String {
    let counts = errors.withLock { $0 }.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
    return counts.isEmpty ? "none" : counts.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
  }
}
