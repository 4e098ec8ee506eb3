public import EventFanout

/// The real-time layer's settings (chatd flags where an operator may want to change them).
public struct RealtimeConfiguration: Sendable {
  /// Heartbeats on idle streams (`--heartbeat-interval`, default 15 s) so proxies keep them.
  public var heartbeatInterval: Duration = .seconds(15)
  /// The presence lease (`--presence-lease`, default 15 s): a killed instance's users turn
  /// offline within one lease.
  public var presenceLease: Duration = .seconds(15)
  /// How long a typing indicator lasts unless renewed.
  public var typingLifetime: Duration = .seconds(6)
  /// How often delivered pointers are written (batched).
  public var deliveryFlushInterval: Duration = .milliseconds(250)
  /// Rooms with more members move delivered pointers without `delivered` events.
  public var deliveredEventMaxMembers = 50
  /// How often every followed feed's position is read from the database
  /// (`--position-check-interval`, default 30 s): bounds how long a lost announcement can
  /// hold a live stream back. One query per check and per thousand followed feeds.
  public var positionCheckInterval: Duration = .seconds(30)
  /// A feed whose read has brought nothing for this long starts another (see `FeedStall`).
  public var feedStallTimeout: Duration = .seconds(30)
  /// Per-subscriber queue bounds and the rest of the fan-out's limits.
  public var fanout = FeedHubConfiguration()

  public init() {}
}
