public import Logging
public import ServiceLifecycle
import Synchronization

/// The process's one LISTEN connection, run as a `Service`.
///
/// It connects, LISTENs on its channels and yields every notification to each consumer. When
/// the connection breaks it reconnects with backoff and yields `.resync`: notifications sent
/// while it was away are lost, so consumers read what they missed from the database.
/// `.resync` is also the first event after the first connect, for the same reason.
public final class NotificationListener: Service, Sendable {
  /// What consumers receive.
  public enum Event: Sendable, Equatable {
    /// A NOTIFY on one of the channels.
    case notification(channel: String, payload: String)
    /// (Re)connected: anything may have been missed; catch up from the database.
    case resync
  }

  /// The channels the store's functions NOTIFY on.
  public static let roomEventsChannel = "chat_room_events"  // payload "room_id:seq"
  public static let userEventsChannel = "chat_user_events"  // payload "user_id:seq"

  let configuration: PostgresPool.Configuration
  let channels: [String]
  let logger: Logger
  /// How often an idle connection is pinged to notice a silent failure.
  let pingInterval: Duration
  private let consumers = Mutex<[UInt64: AsyncStream<Event>.Continuation]>([:])
  private let nextID = Atomic<UInt64>(0)
  private let connected = Atomic<Bool>(false)

  public init(
    configuration: PostgresPool.Configuration,
    channels: [String] = [
      roomEventsChannel, userEventsChannel, BusRepository.membershipsChannel,
      BusRepository.typingChannel,
    ],
    pingInterval: Duration = .seconds(10),
    logger: Logger = Logger(label: "chatd.store.listener")
  ) {
    precondition(
      channels.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } },
      "channel names are identifiers")
    self.configuration = configuration
    self.channels = channels
    self.pingInterval = pingInterval
    self.logger = logger
  }

  /// A new consumer's stream; it ends when the consumer stops iterating or the service stops.
  /// - Important: read promptly: the buffer is unbounded so no wake-up is ever dropped.
  public func events() -> AsyncStream<Event> {
    let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
    let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    consumers.withLock { $0[id] = continuation }
    continuation.onTermination = { [weak self] _ in
      _ = self?.consumers.withLock { $0.removeValue(forKey: id) }
    }
    return stream
  }

  /// Whether the LISTEN connection is up right now.
  public var isConnected: Bool { connected.load(ordering: .relaxed) }

  public func run() async throws {
    await cancelWhenGracefulShutdown {
      var backoff = self.configuration.minBackoff
      while !Task.isCancelled {
        do {
          try await self.listenUntilDisconnected()
          backoff = self.configuration.minBackoff
        } catch {
          self.logger.warning("listener connect failed", metadata: ["error": "\(error)"])
          try? await Task.sleep(for: backoff)
          backoff = min(self.configuration.maxBackoff, backoff * 2)
        }
      }
    }
    let all = consumers.withLock { consumers in
      defer { consumers = [:] }
      return Array(consumers.values)
    }
    for continuation in all { continuation.finish() }
  }

  private func listenUntilDisconnected() async throws {
    let connection = try await PostgresConnection.connect(
      configuration.connection,
      onNotification: { [weak self] in
        self?.broadcast(.notification(channel: $0.channel, payload: $0.payload))
      })
    // A notification may arrive between LISTEN and `.resync`: consumers must see `.resync`
    // first, and it covers what came before it, so until then notifications are dropped
    // (`connected` changes under the consumers' lock, where `broadcast` reads it).
    defer {
      connected.store(false, ordering: .relaxed)
      connection.close()
    }
    for channel in channels {
      _ = try await connection.query("LISTEN \(unsafeSQL: channel)")
    }
    logger.debug("listening", metadata: ["channels": "\(channels)"])
    consumers.withLock { consumers in
      connected.store(true, ordering: .relaxed)
      for continuation in consumers.values { continuation.yield(.resync) }
    }
    var sincePing: Duration = .zero
    while !connection.isClosed, !Task.isCancelled {
      try? await Task.sleep(for: .milliseconds(100))
      sincePing += .milliseconds(100)
      if sincePing >= pingInterval {
        sincePing = .zero
        _ = try? await connection.query("SELECT 1")
      }
    }
  }

  private func broadcast(_ event: Event) {
    consumers.withLock { consumers in
      guard connected.load(ordering: .relaxed) else { return }
      for continuation in consumers.values { continuation.yield(event) }
    }
  }
}
