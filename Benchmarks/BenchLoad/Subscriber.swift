import BenchProtos
import BenchSupport
import HTTP2Transport
import RPCCore
import Synchronization

/// Counters every stream updates, read by the coordinating task while it polls.
final class Progress: Sendable {
  /// Streams that received at least one event: the server has them registered.
  let live = Atomic<Int>(0)
  let failed = Atomic<Int>(0)
  /// Measured messages received, over all streams.
  let deliveries = Atomic<Int>(0)
  /// Measured messages received out of seq order or twice (must stay 0).
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

/// What a Send carries in its body: a warm-up ("w") or a measured message ("m <send time>",
/// CLOCK_MONOTONIC nanoseconds of this process, so receipt time minus it is the latency).
enum Body {
  static let warmUp = "w"
  static func measured(sentAt nanos: UInt64) -> String { "m \(nanos)" }

  static func sentAt(_ body: String) -> UInt64? {
    guard body.hasPrefix("m ") else { return nil }
    return UInt64(body.dropFirst(2))
  }
}

/// One Subscribe stream, read until the task is cancelled. Its events are taken on the
/// connection's event loop as they arrive (`GRPCClient.serverStreaming`), not by a task per
/// stream: the load generator shares the server's cores, and a task resumed per event cost it
/// about twice the server's CPU per delivery, which showed in every server's latency.
struct Subscriber: Sendable {
  let client: GRPCClient
  let roomID: String
  /// Measured messages to expect (room for their samples is reserved up front).
  let expected: Int
  let progress: Progress
  let latencies: Latencies

  func run() async {
    var request = Bench_V1_SubscribeRequest()
    request.roomId = roomID
    let tally = Tally(expected: expected)
    // Samples of a stream cut short still count.
    defer { latencies.add(tally.samples) }
    do {
      try await client.serverStreaming(
        Bench_V1_Chat.Method.subscribe, request: request.wireBytes()
      ) { [progress] bytes in
        tally.take(bytes, progress: progress)
      }
      throw RPCError(code: .unavailable, message: "the server ended the stream")
    } catch {
      // Cancellation is how the run ends every stream; anything else is a failure.
      if !Task.isCancelled { progress.fail(error) }
    }
  }
}

/// One stream's state, touched only on its connection's event loop while the call runs and
/// read once it has ended.
private final class Tally: @unchecked Sendable {
  var samples: [UInt64] = []
  private var live = false
  private var lastSeq: UInt64 = 0

  init(expected: Int) { samples.reserveCapacity(expected) }

  func take(_ bytes: [UInt8], progress: Progress) {
    let now = MonotonicClock.nanos()
    guard let event = try? Bench_V1_Event(wireBytes: bytes) else {
      progress.fail(RPCError(code: .internalError, message: "an event that does not decode"))
      return
    }
    if !live {
      live = true
      progress.live.add(1, ordering: .relaxed)
    }
    guard let sentAt = Body.sentAt(event.body) else { return }
    if event.seq <= lastSeq { progress.disordered.add(1, ordering: .relaxed) }
    lastSeq = event.seq
    samples.append(now &- sentAt)
    progress.delivered(at: now)
  }
}

/// Sends warm-up messages to `rooms` until every stream has received one (the server has
/// registered it: bench.v1 has no "synced" event) or `timeout` passes. The pause between
/// rounds starts at `interval` and doubles up to a second: each round is delivered to every
/// stream already open, so a long burst of opens must not be flooded with warm-ups.
func warmUp(
  rooms: [String], sender: Bench_V1_Chat.Client, streams: Int, progress: Progress,
  timeout: Duration, interval: Duration = .milliseconds(100)
) async -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  var nextReport = clock.now + .seconds(5)
  var pause = interval
  while progress.live.load(ordering: .relaxed) + progress.failed.load(ordering: .relaxed)
    < streams
  {
    if clock.now >= deadline { return false }
    for room in rooms {
      var request = Bench_V1_SendRequest()
      request.roomId = room
      request.body = Body.warmUp
      _ = try? await sender.send(request, options: CallOptions(timeout: .seconds(10)))
    }
    if clock.now >= nextReport {
      printProgress(
        "live \(progress.live.load(ordering: .relaxed))/\(streams), "
          + "failed \(progress.failed.load(ordering: .relaxed))")
      nextReport = clock.now + .seconds(5)
    }
    try? await Task.sleep(for: pause)
    pause = min(pause * 2, .seconds(1))
  }
  return progress.failed.load(ordering: .relaxed) == 0
}
