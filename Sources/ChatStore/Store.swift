public import Logging
public import ServiceLifecycle

/// Where the store's PostgreSQL is and how to use it.
public struct StoreConfiguration: Sendable {
  /// A libpq connection string or URI (`--database-url`, `CHATD_DATABASE_URL`). When nil, chatd
  /// runs its own cluster in `dataDir`.
  public var databaseURL: String?
  /// chatd's data directory (`--data-dir`, `CHATD_DATA_DIR`, default `./.chatd/`); the
  /// embedded cluster lives in its `postgres/` folder.
  public var dataDir: String
  /// The PostgreSQL binaries for the embedded cluster.
  public var postgresBinDirectory = "/usr/lib/postgresql/15/bin"
  /// Pool limits and timeouts (the connection string is filled in by `Store.open`).
  public var maxConnections = 10
  public var acquireTimeout: Duration = .seconds(5)
  public var statementTimeout: Duration? = .seconds(10)
  /// Each pool connection prepares a statement the first time it runs it and then runs it by
  /// name, skipping the parse (`--database-prepared-statements`, default on). Off for a
  /// pooler in transaction mode that cannot carry named statements (PgBouncer before 1.21,
  /// or without `max_prepared_statements`).
  public var preparedStatements = true
  /// SendMessage's group commit: the most batches in flight at once, each on a pool
  /// connection (`AppendBatcher`). Fewer means larger batches, so less database CPU per send,
  /// but less overlap of one batch's commit with the next one's work.
  public var sendBatchesInFlight = 2
  /// Push on (OneSignal configured): SendMessage and Follow write push rows, and recipients
  /// online at send time get theirs after this grace period. Nil (the default): no push rows
  /// at all. Passed to the SQL functions as the session setting `chatd.push_grace_ms` of every
  /// pool connection (docs/push.md).
  public var pushGracePeriod: Duration?

  public init(databaseURL: String? = nil, dataDir: String = "./.chatd/") {
    self.databaseURL = databaseURL
    self.dataDir = dataDir
  }
}

/// The persistence layer: pool, LISTEN connection, optional embedded cluster, repositories.
/// A `Service`: run it in chatd's ServiceGroup; on graceful shutdown it closes its
/// connections and stops the embedded cluster.
public final class Store: Service, Sendable {
  public let pool: PostgresPool
  public let listener: NotificationListener
  public let cluster: EmbeddedCluster?
  let logger: Logger
  /// SendMessage's group commit, shared by every caller of `messages`.
  let appends: AppendBatcher
  /// The bus announcements of read receipts, after their commits (sends announce in theirs).
  let announcer: RoomEventAnnouncer
  /// SubscribeRoom's checks, coalesced across a burst of subscriptions.
  let subscriptionChecks: RoomRepository.SubscriptionChecks

  public var users: UserRepository { UserRepository(pool: pool) }
  public var rooms: RoomRepository {
    RoomRepository(pool: pool, subscriptionChecks: subscriptionChecks, announcer: announcer)
  }
  public var messages: MessageRepository { MessageRepository(pool: pool, appends: appends) }
  public var follows: FollowRepository { FollowRepository(pool: pool) }
  public var notifications: NotificationRepository { NotificationRepository(pool: pool) }
  public var events: RoomEventRepository { RoomEventRepository(pool: pool) }
  public var outbox: OutboxRepository { OutboxRepository(pool: pool) }
  public var presence: PresenceRepository { PresenceRepository(pool: pool) }
  public var bus: BusRepository { BusRepository(pool: pool) }

  init(
    pool: PostgresPool, listener: NotificationListener, cluster: EmbeddedCluster?, logger: Logger,
    sendBatchesInFlight: Int = StoreConfiguration().sendBatchesInFlight
  ) {
    self.pool = pool
    self.listener = listener
    self.cluster = cluster
    self.logger = logger
    announcer = RoomEventAnnouncer(pool: pool)
    appends = AppendBatcher(pool: pool, maxInFlight: sendBatchesInFlight)
    subscriptionChecks = RoomRepository.subscriptionChecks(pool: pool)
  }

  /// Starts the embedded cluster when there is no database URL, migrates the database under
  /// an advisory lock and returns the store, ready for `run()`.
  public static func open(
    _ configuration: StoreConfiguration, logger: Logger = Logger(label: "chatd.store")
  ) async throws -> Store {
    var cluster: EmbeddedCluster?
    var url = configuration.databaseURL
    if url == nil {
      let embedded = EmbeddedCluster(
        dataDir: configuration.dataDir, binDirectory: configuration.postgresBinDirectory)
      url = try await embedded.start()
      cluster = embedded
      logger.info("embedded postgres started", metadata: ["dir": "\(embedded.directory.path)"])
    }
    var poolConfiguration = PostgresPool.Configuration(conninfo: url!)
    poolConfiguration.maxConnections = configuration.maxConnections
    poolConfiguration.acquireTimeout = configuration.acquireTimeout
    poolConfiguration.statementTimeout = configuration.statementTimeout
    poolConfiguration.preparedStatements = configuration.preparedStatements
    if let grace = configuration.pushGracePeriod {
      let milliseconds = Int64((grace.timeInterval * 1000).rounded())
      poolConfiguration.settings["chatd.push_grace_ms"] = "\(milliseconds)"
    }
    try await migrate(poolConfiguration, logger: logger)
    return Store(
      pool: PostgresPool(configuration: poolConfiguration, logger: logger),
      listener: NotificationListener(configuration: poolConfiguration, logger: logger),
      cluster: cluster, logger: logger, sendBatchesInFlight: configuration.sendBatchesInFlight)
  }

  /// Applies missing migrations on a dedicated connection (no statement timeout).
  public static func migrate(
    _ configuration: PostgresPool.Configuration, logger: Logger = Logger(label: "chatd.store")
  ) async throws {
    var connectionConfiguration = configuration.connection
    connectionConfiguration.statementTimeout = nil
    let connection = try await PostgresConnection.connect(connectionConfiguration)
    defer { connection.close() }
    let applied = try await Migrator.migrate(connection)
    if !applied.isEmpty { logger.info("migrated", metadata: ["versions": "\(applied)"]) }
  }

  /// Announces what is committed (for at most 2 s), then closes the pool: the end of a
  /// process that used the store without `run()`, such as a benchmark (`run()` also runs the
  /// listener and stops an embedded cluster; this does neither).
  public func close() async {
    await announceCommitted()
    pool.shutdown()
  }

  /// Writes committed before a shutdown are announced before the pool closes: another
  /// instance's subscribers would otherwise wait for their next position check.
  private func announceCommitted() async {
    await announcer.drain(within: .seconds(2))
  }

  public func run() async throws {
    await withDiscardingTaskGroup { group in
      group.addTask { try? await self.pool.run(beforeClosing: { await self.announceCommitted() }) }
      group.addTask { try? await self.listener.run() }
    }
    if let cluster {
      await cluster.stop()
      logger.info("embedded postgres stopped")
    }
  }
}
