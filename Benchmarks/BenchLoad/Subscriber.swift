import BenchProtos
import BenchSupport
import HTTP2Transport
import RPCCore
import Synchronization

/// Counters every stream updates, read by the coordinating task while it polls.
///
/// What changes per delivery lives in shards, one per connection: a connection's streams run
/// on its event loop only, so no delivery waits for a cache line the other core holds. One
/// shared counter cost the load generator about a third of its time per event in
/// `Tally.take` at 5,000 subscribers (docs/benchmarks.md, "session 10").
final class Progress: Sendable {
  /// Streams that received at least one event: the server has them registered.
  let live = Atomic<Int>(0)
  let failed = Atomic<Int>(0)
  private let firstError = Mutex<String?>(nil)
  private let shards: [DeliveryShard]

  init(connections: Int = 1) {
    shards = (0..<max(1, connections)).map { _ in DeliveryShard() }
  }

  func fail(_ error: any Error) {
    failed.add(1, ordering: .relaxed)
    firstError.withLock { $0 = $0 ?? "\(error)" }
  }

  var error: String? { firstError.withLock { $0 } }

  /// The shard of the streams on connection `index`.
  func shard(forConnection index: Int) -> DeliveryShard { shards[index % shards.count] }

  /// Measured messages received, over all streams.
  var deliveries: Int { shards.reduce(0) { $0 + $1.deliveries.load(ordering: .relaxed) } }
  /// Measured messages received out of seq order or twice (must stay 0).
  var disordered: Int { shards.reduce(0) { $0 + $1.disordered.load(ordering: .relaxed) } }
  /// When the last measured message arrived (monotonic nanoseconds).
  var lastDelivery: UInt64 { shards.map { $0.lastDelivery.load(ordering: .relaxed) }.max() ?? 0 }
}

/// The delivery counters of one connection's streams, written on its event loop only.
final class DeliveryShard: Sendable {
  let deliveries = Atomic<Int>(0)
  let disordered = Atomic<Int>(0)
  let lastDelivery = Atomic<UInt64>(0)
  /// Keeps the next shard's counters off this one's cache line.
  private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

  /// One writer: a plain store keeps the latest time.
  func delivered(at now: UInt64) {
    deliveries.wrappingAdd(1, ordering: .relaxed)
    lastDelivery.store(now, ordering: .relaxed)
  }
}

/// What a Send carries in its body: a warm-up ("w") or a measured message ("m <send time>",
/// CLOCK_MONOTONIC nanoseconds of this process, so receipt time minus it is the latency).
enum Body {
  static let warmUp = "w"
  static func measured(sentAt nanos: UInt64) -> String { "m \(nanos)" }
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
  /// The counters of `client`'s connection.
  let shard: DeliveryShard
  let latencies: Latencies

  func run() async {
    var request = Bench_V1_SubscribeRequest()
    request.roomId = roomID
    let tally = Tally(expected: expected, progress: progress, shard: shard)
    // Samples of a stream cut short still count.
    defer { latencies.add(tally.samples) }
    do {
      try await client.serverStreaming(
        Bench_V1_Chat.Method.subscribe, request: request.wireBytes(), onMessage: tally.take)
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
  private var live = false
  private var lastSeq: UInt64 = 0
  let progress: Progress
  let shard: DeliveryShard
  var samples: [UInt64] = []

  init(expected: Int, progress: Progress, shard: DeliveryShard) {
    self.progress = progress
    self.shard = shard
    samples.reserveCapacity(expected)
  }

  func take(_ bytes: [UInt8]) {
    let now = MonotonicClock.nanos()
    guard let event = EventStamp(bytes) else {
      progress.fail(RPCError(code: .internalError, message: "an event that does not decode"))
      return
    }
    if !live {
      live = true
      progress.live.add(1, ordering: .relaxed)
    }
    guard let sentAt = event.sentAt else { return }
    if event.seq <= lastSeq { shard.disordered.add(1, ordering: .relaxed) }
    lastSeq = event.seq
    samples.append(now &- sentAt)
    shard.delivered(at: now)
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
