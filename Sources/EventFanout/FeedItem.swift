public import RPCCore

/// One event of a feed, encoded once for every subscriber that receives it.
public struct FeedItem: Sendable {
  /// The event's position in its feed; 0 for ephemeral events (typing, activity, ...), which
  /// are delivered live only and never replayed.
  public let seq: UInt64
  /// The event as the stream sends it.
  public let message: EncodedMessage
  /// What the consumer must know about the event beyond its bytes (who sent a message, whose
  /// membership ended, ...), nil when nothing.
  public let note: (any FeedNote)?

  public init(seq: UInt64, message: EncodedMessage, note: (any FeedNote)? = nil) {
    self.seq = seq
    self.message = message
    self.note = note
  }
}

/// What a consumer of a feed learns about an event beyond its bytes; it reads its own kind
/// back with `as?`.
///
/// A class, and the fan-out code not generic over it: generic code here runs unspecialized
/// (the consumers' types live in other modules), and at 5,000 subscribers its metadata
/// look-ups and value-witness copies cost about 15% of the CPU per delivery
/// (docs/benchmarks.md, "session 9"). A class reference copies with one retain.
public protocol FeedNote: AnyObject, Sendable {}

/// Where a feed's persisted events come from (the database), for replays and for the hub's
/// own reads when it learns that a feed has grown.
public protocol FeedSource: Sendable {
  /// The events of feed `key` with seq > `seq`, ascending and without gaps, at most `limit`.
  func items(of key: String, after seq: UInt64, limit: Int) async throws -> [FeedItem]

  /// The last seq of each feed among `keys` that exists.
  func lastSeqs(of keys: [String]) async throws -> [String: UInt64]
}

/// What a subscription hands its consumer, in order.
public enum FeedOutput: Sendable {
  /// An event to send.
  case item(FeedItem)
  /// The replay is over: every persisted event up to `lastSeq` has been handed out.
  case synced(lastSeq: UInt64)
  /// The stream has been idle for the heartbeat interval.
  case heartbeat
}

/// What a direct consumer (`FeedSubscription.deliverDirectly(on:_:)`) did with an event.
public enum DirectDelivery: Sendable {
  /// Written to the stream.
  case sent
  /// Not written: the subscription queues it, and the rest after it, for `next()`.
  case deferred
}

/// The hub's limits.
public struct FeedHubConfiguration: Sendable {
  /// Independent locks over the map of feeds (no global lock on the hot path).
  public var shards = 16
  /// Events read from the source per round trip, for replays and for the hub's reads.
  public var pageSize = 256
  /// Recent events each feed keeps in memory, so a subscriber that is a little behind (one
  /// that just finished its replay) joins without another database read.
  public var recentCapacity = 256
  /// A subscriber's queue: past either bound it is dropped, and the subscriber reads from the
  /// source where it left off (a slow reader never blocks others and never loses events).
  public var subscriberQueueBytes = 1 << 20
  public var subscriberQueueItems = 4096
  /// An idle stream gets a heartbeat after this long.
  public var heartbeatInterval: Duration = .seconds(15)

  public init() {}
}
