public import BenchProtos
import EventFanout
import Foundation
public import RPCCore
public import ServiceLifecycle

/// bench.v1.Chat, the benchmark service of issue 9, in memory on chatd's own event hub, so
/// chatd and its peers (Benchmarks/peers) serve the same workload to the same load tool.
///
/// Send assigns the room's next seq, encodes the Event once and announces it to the hub,
/// which hands the same bytes to every subscriber of the room (the path SubscribeRoom takes,
/// with an in-memory source instead of the database). Subscribe follows the room from its
/// current seq: it streams every Send made after it started, none from before.
///
/// For benchmarks only: no authentication, no limits on rooms, nothing persisted. chatd
/// serves it only with `--enable-bench-service` (off by default).
public final class BenchChatService: Bench_V1_Chat.ServiceProtocol, Service, Sendable {
  private let rooms: BenchRooms
  private let hub: FeedHub

  /// - Parameter historyPerRoom: events each room keeps for subscribers that fall behind
  ///   (their queue overflowed) to catch up from; one further behind fails with
  ///   RESOURCE_EXHAUSTED.
  public init(historyPerRoom: Int = 8192) {
    rooms = BenchRooms(historyPerRoom: historyPerRoom)
    hub = FeedHub(source: rooms)
  }

  public func send(request: Bench_V1_SendRequest, context: ServerContext) async throws
    -> Bench_V1_SendReply
  {
    try Self.checkRoomID(request.roomId)
    let sentAt = Self.wallClockMilliseconds()
    let seq = rooms.append(to: request.roomId) { seq in
      var event = Bench_V1_Event()
      event.seq = seq
      event.roomId = request.roomId
      event.body = request.body
      event.sentAtMs = sentAt
      return EncodedMessage(event)
    }
    hub.announce(request.roomId, seq: seq)
    var reply = Bench_V1_SendReply()
    reply.seq = seq
    reply.sentAtMs = sentAt
    return reply
  }

  public func subscribe(
    request: Bench_V1_SubscribeRequest, response: RPCWriter<Bench_V1_Event>,
    context: ServerContext
  ) async throws {
    try Self.checkRoomID(request.roomId)
    let subscription = hub.subscribe(
      to: request.roomId, after: rooms.lastSeq(of: request.roomId), subscriber: nil)
    defer { subscription.close() }
    if let direct = response.direct {
      subscription.deliverDirectly(on: direct.lane, batch: direct.batch) { item in
        direct.write(encoded: item.message) == .written ? .sent : .deferred
      }
    }
    while true {
      let outputs = try await subscription.next()
      if outputs.isEmpty { return }
      // bench.v1 has no synced or heartbeat events: only the Sends go out.
      for case .item(let item) in outputs {
        try await response.write(encoded: item.message)
      }
    }
  }

  /// Ends every Subscribe stream cleanly when chatd starts shutting down, so the server's
  /// drain does not wait for them.
  public func run() async throws {
    try? await gracefulShutdown()
    hub.finishAll(nil)
  }

  private static func checkRoomID(_ roomID: String) throws {
    guard !roomID.isEmpty else {
      throw RPCError(code: .invalidArgument, message: "room_id must not be empty")
    }
  }

  private static func wallClockMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}
