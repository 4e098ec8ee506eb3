public import ChatStore
import EventFanout
public import Logging
import Metrics
import RPCCore
public import ServiceLifecycle

/// The real-time layer of one process: the room and user fan-out hubs fed by the bus (the
/// store's LISTEN connection), live room activity, typing, delivered pointers and presence.
/// A `Service`: run it in chatd's ServiceGroup. On graceful shutdown it ends every stream
/// with UNAVAILABLE (clients resubscribe elsewhere and resume) and retires its presence.
public final class Realtime: Service, Sendable {
  let store: Store
  let configuration: RealtimeConfiguration
  let rooms: FeedHub
  let users: FeedHub
  let activity: ActivityRouter
  let typing: TypingTracker
  let deliveries: DeliveryRecorder
  let presence: PresenceKeeper
  /// Rung on every room event: the firehose streams poll the store when it rings.
  let roomEvents = Doorbell()
  /// The open streams by kind (a Prometheus gauge).
  let streams = StreamGauges()
  /// `chatd_feed_stalls_total`: feeds the watchdog found silent while behind (a bug's trace).
  let stalls = Counter(label: "chatd_feed_stalls_total")
  let logger: Logger

  public init(
    store: Store, configuration: RealtimeConfiguration = RealtimeConfiguration(),
    logger: Logger = Logger(label: "chatd.realtime")
  ) {
    self.store = store
    self.configuration = configuration
    var fanout = configuration.fanout
    fanout.heartbeatInterval = configuration.heartbeatInterval
    rooms = FeedHub(source: RoomFeedSource(store: store), configuration: fanout)
    users = FeedHub(source: NotificationFeedSource(store: store), configuration: fanout)
    activity = ActivityRouter(store: store, users: users, logger: logger)
    typing = TypingTracker(rooms: rooms, lifetime: configuration.typingLifetime)
    deliveries = DeliveryRecorder(
      store: store, interval: configuration.deliveryFlushInterval,
      eventMaxMembers: configuration.deliveredEventMaxMembers, logger: logger)
    presence = PresenceKeeper(store: store, lease: configuration.presenceLease, logger: logger)
    self.logger = logger
  }

  public func run() async throws {
    let bus = store.listener.events()
    await withDiscardingTaskGroup { group in
      group.addTask { await self.dispatch(bus) }
      group.addTask { await self.rooms.runHeartbeats() }
      group.addTask { await self.users.runHeartbeats() }
      group.addTask { await self.watch(self.rooms) }
      group.addTask { await self.watch(self.users) }
      group.addTask { await self.typing.run() }
      group.addTask { await self.deliveries.run() }
      group.addTask { await self.presence.run() }
      try? await gracefulShutdown()
      let ending = RPCError(
        code: .unavailable, message: "chatd is shutting down: resubscribe to resume")
      rooms.finishAll(ending)
      users.finishAll(ending)
      group.cancelAll()
    }
  }

  /// Routes the bus's messages to the hubs until the listener stops (or the task is
  /// cancelled, which also ends the resyncs under way).
  private func dispatch(_ bus: AsyncStream<NotificationListener.Event>) async {
    await withDiscardingTaskGroup { group in
      for await event in bus {
        switch event {
        case .notification(let channel, let payload):
          route(channel: channel, payload: payload)
        case .resync:
          roomEvents.ring()
          group.addTask { await self.resync() }
        }
      }
    }
  }

  /// After the listener (re)connected: every followed feed reads what the bus lost. Retried
  /// until the database answers (the chaos run found subscribers of quiet rooms stuck behind
  /// after a PostgreSQL restart, when the one attempt met a pool that could not connect yet).
  private func resync() async {
    let logger = self.logger
    let failed = { (error: any Error) in
      logger.warning("resync after reconnect failed, retrying", metadata: ["error": "\(error)"])
    }
    await rooms.resyncRetrying(failed: failed)
    await users.resyncRetrying(failed: failed)
  }

  /// The hub's watchdog and periodic position checks. A stall found is a bug somewhere on the
  /// way from the bus to the feed: logged as an error (with the feed's positions) and counted.
  private func watch(_ hub: FeedHub) async {
    let logger = self.logger
    let stalls = self.stalls
    await withDiscardingTaskGroup { group in
      group.addTask {
        await hub.runWatchdog(stallTimeout: self.configuration.feedStallTimeout) { stall in
          stalls.increment()
          logger.error("feed stalled, reading again", metadata: ["stall": "\(stall)"])
        }
      }
      group.addTask {
        await hub.runPositionChecks(every: self.configuration.positionCheckInterval) { error in
          logger.warning("position check failed", metadata: ["error": "\(error)"])
        }
      }
    }
  }

  private func route(channel: String, payload: String) {
    switch channel {
    case NotificationListener.roomEventsChannel:
      guard let (roomID, seq) = Self.split(payload) else { return }
      rooms.announce(roomID, seq: seq)
      activity.roomAnnounced(roomID, seq: Int64(clamping: seq))
      roomEvents.ring()
    case NotificationListener.userEventsChannel:
      guard let (user, seq) = Self.split(payload) else { return }
      users.announce(user, seq: seq)
    case BusRepository.membershipsChannel:
      // "kind:room:user": user ids are opaque and may contain ':', so they come last.
      let parts = payload.split(separator: ":", maxSplits: 2)
      guard parts.count == 3, let kind = Int(parts[0]) else { return }
      activity.membershipChanged(kind: kind, roomID: String(parts[1]), user: String(parts[2]))
    case BusRepository.typingChannel:
      // "room:user:0|1"
      guard let last = payload.lastIndex(of: ":"), let first = payload.firstIndex(of: ":"),
        first < last
      else { return }
      let user = String(payload[payload.index(after: first)..<last])
      typing.received(
        roomID: String(payload[..<first]), user: user, typing: payload.hasSuffix(":1"))
    default:
      break
    }
  }

  /// "key:seq", split at the last colon.
  private static func split(_ payload: String) -> (String, UInt64)? {
    guard let colon = payload.lastIndex(of: ":"),
      let seq = UInt64(payload[payload.index(after: colon)...])
    else { return nil }
    return (String(payload[..<colon]), seq)
  }
}
