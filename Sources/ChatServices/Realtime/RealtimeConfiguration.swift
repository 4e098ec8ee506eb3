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
  /// Per-subscriber queue bounds and the rest of the fan-out's limits.
  public var fanout = FeedHubConfiguration()

  public init() {}
}
