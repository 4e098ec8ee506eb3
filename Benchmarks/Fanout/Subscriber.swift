import BenchSupport
import ChatProtos
import RPCCore
import Synchronization

/// Counters every subscriber stream updates, read by the coordinating task while it polls.
final class Progress: Sendable {
  let synced = Atomic<Int>(0)
  let failed = Atomic<Int>(0)
  /// Streams that received the warm-up message.
  let warm = Atomic<Int>(0)
  /// Measured messages received, over all streams.
  let deliveries = Atomic<Int>(0)
  /// Streams that saw a measured message out of order or twice (must stay 0).
  let disordered = Atomic<Int>(0)
  /// When the last measured message arrived (monotonic nanoseconds).
  let lastDelivery = Atomic<UInt64>(0)
  private let firstError = Mutex<String?>(nil)

  func fail(_ error: any Error) {
    failed.add(1, ordering: .relaxed)
    firstError.withLock { $0 = $0 ?? "\(error)" }
  }

  var error: String? { firstError.withLock { $0 } }

  func delivered(at now: UInt64) {
    deliveries.add(1, ordering: .relaxed)
    var last = lastDelivery.load(ordering: .relaxed)
    while last < now {
      let (exchanged, current) = lastDelivery.compareExchange(
        expected: last, desired: now, ordering: .relaxed)
      if exchanged { break }
      last = current
    }
  }
}

/// The messages of a run, recognised by their client_msg_id; the body carries the send time.
struct MessageTag: Sendable {
  let run: String

  var warmUpID: String { "\(run)-warm" }
  func measuredID(_ index: Int) -> String { "\(run)-m\(index)" }
  static func body(sentAt nanos: UInt64) -> String { "fanout benchmark \(nanos)" }

  enum Kind {
    case warmUp
    case measured(sentAt: UInt64)
    case other
  }

  func classify(_ message: Chat_V1_Message) -> Kind {
    let id = message.clientMsgId
    guard id.hasPrefix(run) else { return .other }
    if id == warmUpID { return .warmUp }
    guard let space = message.body.lastIndex(of: " "),
      let sent = UInt64(message.body[message.body.index(after: space)...])
    else { return .other }
    return .measured(sentAt: sent)
  }
}

/// One SubscribeRoom stream, read until the task is cancelled.
struct Subscriber: Sendable {
  let chat: Chat_V1_ChatService.Client
  let roomID: String
  let afterSeq: UInt64
  let token: String
  let tag: MessageTag
  /// Measured messages to expect (room for their samples is reserved up front).
  let expected: Int
  let progress: Progress
  let latencies: Latencies

  func run() async {
    var request = Chat_V1_SubscribeRoomRequest()
    request.roomId = roomID
    request.afterSeq = afterSeq
    let options = Fixture.options(token: token)
    do {
      try await chat.subscribeRoom(request, options: options) { [self] events in
        var samples: [UInt64] = []
        samples.reserveCapacity(expected)
        var lastSeq: UInt64 = 0
        // Samples of a stream cut short (a timeout) still count.
        defer { latencies.add(samples) }
        for try await event in events {
          switch event.event {
          case .synced:
            progress.synced.add(1, ordering: .relaxed)
          case .messageCreated(let message):
            let now = MonotonicClock.nanos()
            switch tag.classify(message) {
            case .warmUp:
              progress.warm.add(1, ordering: .relaxed)
            case .measured(let sentAt):
              if message.seq <= lastSeq { progress.disordered.add(1, ordering: .relaxed) }
              lastSeq = message.seq
              samples.append(now &- sentAt)
              progress.delivered(at: now)
            case .other:
              break
            }
          default:
            break
          }
        }
        throw RPCError(code: .unavailable, message: "the server ended the stream")
      }
    } catch {
      // Cancellation is how the run ends every stream; anything else is a failure.
      if !Task.isCancelled { progress.fail(error) }
    }
  }
}
