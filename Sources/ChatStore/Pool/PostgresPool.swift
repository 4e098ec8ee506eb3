public import Logging
public import ServiceLifecycle
import Synchronization

/// A pool of PostgreSQL connections, run as a swift-service-lifecycle `Service`.
///
/// - At most `maxConnections` connections; a caller waits at most `acquireTimeout` for one.
/// - When connecting fails, the pool backs off (doubling up to `maxBackoff`): during the
///   backoff callers get `.unavailable` at once instead of each waiting on a dead server; the
///   first call after it tries again, so the pool recovers by itself.
/// - Idle connections are checked with `SELECT 1` every `healthCheckInterval` while `run()`
///   runs; broken ones (the server restarted) are dropped as soon as their socket reports EOF.
/// - A connection whose statement failed with `.unavailable` is closed, never reused.
public final class PostgresPool: Service, Sendable {
  /// Pool settings; defaults suit a laptop and a small server.
  public struct Configuration: Sendable {
    /// A libpq connection string or URI.
    public var conninfo: String
    /// Overrides the database named in `conninfo`.
    public var database: String?
    /// Upper bound of open connections (default 10).
    public var maxConnections = 10
    /// How long `withConnection` waits for a free connection (default 5 s).
    public var acquireTimeout: Duration = .seconds(5)
    /// How long connecting may take (default 3 s).
    public var connectTimeout: Duration = .seconds(3)
    /// PostgreSQL `statement_timeout` of every session (default 10 s).
    public var statementTimeout: Duration? = .seconds(10)
    /// How often idle connections are checked (default 30 s).
    public var healthCheckInterval: Duration = .seconds(30)
    /// First and largest backoff after a failed connect (defaults 50 ms and 2 s).
    public var minBackoff: Duration = .milliseconds(50)
    public var maxBackoff: Duration = .seconds(2)
    /// Whether each connection prepares its statements (default on; see
    /// `StoreConfiguration.preparedStatements`).
    public var preparedStatements = true
    /// Custom `chatd.*` settings of every session (see `StoreConfiguration.pushGracePeriod`).
    public var settings: [String: String] = [:]
    /// Every session's notices (see `PostgresConnection.Configuration.noticeHandler`).
    package var noticeHandler: (@Sendable (String) -> Void)?

    public init(conninfo: String, database: String? = nil) {
      self.conninfo = conninfo
      self.database = database
    }

    var connection: PostgresConnection.Configuration {
      var configuration = PostgresConnection.Configuration(conninfo: conninfo, database: database)
      configuration.connectTimeout = connectTimeout
      configuration.statementTimeout = statementTimeout
      configuration.settings = settings
      configuration.preparedStatements = preparedStatements
      configuration.noticeHandler = noticeHandler
      return configuration
    }
  }

  public let configuration: Configuration
  let logger: Logger
  let state = Mutex(PoolState())

  public init(configuration: Configuration, logger: Logger = Logger(label: "chatd.store.pool")) {
    self.configuration = configuration
    self.logger = logger
  }

  /// Lends a connection to `body` and takes it back afterwards.
  package func withConnection<R: Sendable>(
    _ body: (PostgresConnection) async throws -> R
  ) async throws -> R {
    let connection = try await acquire()
    do {
      let result = try await body(connection)
      release(connection, failed: false)
      return result
    } catch {
      release(connection, failed: (error as? StoreError)?.kind == .unavailable)
      throw error
    }
  }

  /// Runs one statement on a pooled connection.
  public func query(_ query: PostgresQuery) async throws -> PostgresResult {
    try await withConnection { try await $0.query(query) }
  }

  /// Runs statements as one pipeline: one round trip, one implicit transaction.
  public func execute(_ queries: [PostgresQuery]) async throws -> [PostgresResult] {
    try await withConnection { try await $0.execute(queries) }
  }

  /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
  public func withTransaction<R: Sendable>(
    _ body: (PostgresTransaction) async throws -> R
  ) async throws -> R {
    try await withConnection { connection in
      _ = try await connection.query("BEGIN")
      do {
        let result = try await body(PostgresTransaction(connection: connection))
        _ = try await connection.query("COMMIT")
        return result
      } catch {
        if !connection.isClosed { _ = try? await connection.query("ROLLBACK") }
        throw error
      }
    }
  }

  /// Checks idle connections until graceful shutdown, then closes every connection.
  public func run() async throws {
    try await run(beforeClosing: {})
  }

  /// `run()`, with `beforeClosing` between the graceful shutdown and the closing: work that
  /// still needs connections, such as announcements of committed writes.
  public func run(beforeClosing: @Sendable () async -> Void) async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        try? await Task.sleep(for: self.configuration.healthCheckInterval)
        await self.checkIdleConnections()
      }
    }
    await beforeClosing()
    shutdown()
  }

  /// Closes idle connections and fails waiters; connections in use close when released.
  public func shutdown() {
    let (idle, waiters) = state.withLock { state in
      state.isShutdown = true
      defer {
        state.idle = []
        state.waiters = []
      }
      state.open -= state.idle.count
      return (state.idle, state.waiters)
    }
    for entry in idle { entry.connection.close() }
    for waiter in waiters {
      waiter.continuation.resume(throwing: StoreError(.unavailable, serverMessage: "pool closed"))
    }
  }
}

/// A transaction's statements, run on the connection that began it.
public struct PostgresTransaction: Sendable {
  let connection: PostgresConnection

  public func query(_ query: PostgresQuery) async throws -> PostgresResult {
    try await connection.query(query)
  }

  public func execute(_ queries: [PostgresQuery]) async throws -> [PostgresResult] {
    try await connection.execute(queries)
  }
}
