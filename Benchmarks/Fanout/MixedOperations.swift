import ArgumentParser
import BenchSupport
import Foundation
import RPCCore
import Synchronization

/// What a user of the mixed chat day does between two pauses. The raw values name the
/// operations in the mix option and in the result line.
enum MixedOperation: String, CaseIterable, Sendable {
  case getMessages = "get_messages"
  case listRooms = "list_rooms"
  case sendTyping = "send_typing"
  case sendMessage = "send_message"
  case markRead = "mark_read"
  /// Closes one of the user's streams and opens it again after the last seq it saw, as an app
  /// does after a network change; its latency is the time until the new stream is synced.
  case resubscribe
}

/// The weights the operations are picked by (docs/benchmarks.md gives the reasons).
struct OperationMix: Sendable, CustomStringConvertible {
  /// Reads are most of a chat app's traffic (opening a conversation loads its latest page,
  /// coming back to the list reloads it); typing is resent every few seconds while composing,
  /// so it outnumbers the messages it precedes; a message is read and marked read by most of
  /// its readers; reconnects are rare.
  static let standard = OperationMix(weights: [
    (.getMessages, 40), (.listRooms, 20), (.sendTyping, 20), (.sendMessage, 10),
    (.markRead, 8), (.resubscribe, 2),
  ])

  let weights: [(operation: MixedOperation, weight: Int)]
  private let total: Int

  init(weights: [(operation: MixedOperation, weight: Int)]) {
    self.weights = weights
    total = weights.reduce(0) { $0 + $1.weight }
  }

  /// `name=weight,name=weight,...`; operations left out are never picked.
  init(parsing text: String) throws {
    var weights: [(operation: MixedOperation, weight: Int)] = []
    for part in text.split(separator: ",") {
      let pair = part.split(separator: "=")
      guard pair.count == 2, let operation = MixedOperation(rawValue: String(pair[0])),
        let weight = Int(pair[1]), weight >= 0
      else {
        let names = MixedOperation.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("--mix takes name=weight pairs of \(names); not \"\(part)\"")
      }
      weights.append((operation, weight))
    }
    guard weights.contains(where: { $0.weight > 0 }) else {
      throw ValidationError("--mix needs a positive weight")
    }
    self.init(weights: weights)
  }

  func pick(using random: inout some RandomNumberGenerator) -> MixedOperation {
    var draw = Int.random(in: 0..<total, using: &random)
    for (operation, weight) in weights {
      if draw < weight { return operation }
      draw -= weight
    }
    return weights[weights.count - 1].operation
  }

  var description: String {
    weights.map { "\($0.operation.rawValue)=\($0.weight)" }.joined(separator: ",")
  }
}

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

/// SplitMix64: a tiny seedable generator, so that a seed gives the same rooms and the same
/// sequence of operations per user in every run (the standard library's is not seedable).
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
