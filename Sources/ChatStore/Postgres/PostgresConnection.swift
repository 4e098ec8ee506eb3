import CLibPQ
import Synchronization

/// One PostgreSQL connection: libpq in nonblocking mode, driven by socket readiness.
///
/// Why this design: libpq's blocking calls would park a thread for every round trip, and the
/// threads here are NIO event loops or Swift's cooperative pool (2 threads on this machine).
/// Dedicated threads would work but cost a thread per connection. Instead every libpq call runs
/// on the connection's `PostgresReactor`, a thread shared with other connections that never
/// blocks in libpq: `PQconnectStartParams` + `PQconnectPoll`, `PQsendQueryParams` +
/// `PQflush`, and `PQconsumeInput` + `PQisBusy` + `PQgetResult` when epoll says the socket is
/// readable. Callers await a continuation; no thread waits.
///
/// Every statement goes through the extended protocol in pipeline mode (binds are never
/// spliced into SQL), prepared once per connection under a name (`PreparedStatements`); a
/// batch is sent as one pipeline with one sync, which PostgreSQL runs as one implicit
/// transaction. Only migrations use the simple protocol, for multi-statement files.
///
/// A connection runs one request at a time; the pool guarantees exclusive use.
/// - Important: call `close()` when done: it stops watching the socket and `PQfinish`es.
package final class PostgresConnection: @unchecked Sendable {
  /// How to reach the server and how each session is set up.
  package struct Configuration: Sendable {
    /// A libpq connection string or URI (`postgresql://user@/db?host=/socket/dir`).
    package var conninfo: String
    /// Overrides the database named in `conninfo`.
    package var database: String?
    package var applicationName = "chatd"
    /// PostgreSQL's `statement_timeout`; nil leaves the server default.
    package var statementTimeout: Duration? = .seconds(10)
    /// How long connecting may take before it fails as `.unavailable`.
    package var connectTimeout: Duration = .seconds(5)
    /// How long a request may go without its answer before the connection is given up as
    /// `.unavailable`: the statement timeout plus this margin (a server that is paused, or a
    /// network that drops everything, never sends the timeout's error). None without a
    /// statement timeout.
    package var answerMargin: Duration = .seconds(5)
    /// Custom settings (`chatd.*`) of every session, sent in the startup packet: the SQL
    /// functions read them with `current_setting` at no extra round trip. Names and values
    /// are chatd's own (letters, digits, dots, underscores), never user input.
    package var settings: [String: String] = [:]
    /// Whether statements are prepared once per connection and then run by name
    /// (`PreparedStatements`); off, every statement is sent unnamed.
    package var preparedStatements = true
    /// Receives the primary text of every notice the server sends (tests read auto_explain's
    /// plans this way); nil ignores notices.
    package var noticeHandler: (@Sendable (String) -> Void)?

    package init(conninfo: String, database: String? = nil) {
      self.conninfo = conninfo
      self.database = database
    }
  }

  let reactor: PostgresReactor
  /// Touched only on `reactor`'s thread.
  var conn: OpaquePointer?
  var readWatch: SocketWatch?
  var writeWatch: SocketWatch?
  var connectWatch: SocketWatch?
  var connectContinuation: CheckedContinuation<Void, any Error>?
  var connectTimer: PostgresReactor.Token?
  /// Runs `checkPending` every `pokeInterval` while connected.
  var watchdog: PostgresReactor.Token?
  var closing = false
  var pending: PendingRequest?
  /// When `pending` was sent.
  var pendingSince = ContinuousClock.now
  var statements = PreparedStatements()
  /// See `Configuration.answerMargin`; set when connected.
  var answerTimeout: Duration?
  var notificationHandler: (@Sendable (PostgresNotification) -> Void)?
  var closeHandler: (@Sendable () -> Void)?
  /// Owned here so that libpq's notice receiver may point at it while `conn` lives.
  var noticeReceiver: NoticeReceiver?
  private let closedFlag = Atomic<Bool>(false)

  private init() {
    reactor = PostgresReactor.next()
  }

  deinit {
    assert(conn == nil, "PostgresConnection dropped without close()")
  }

  /// Whether the connection has failed or been closed. Safe from any thread.
  package var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

  /// Opens a connection; throws `.unavailable` when the server cannot be reached in time.
  package static func connect(
    _ configuration: Configuration,
    onNotification: (@Sendable (PostgresNotification) -> Void)? = nil,
    onClose: (@Sendable () -> Void)? = nil
  ) async throws -> PostgresConnection {
    let connection = PostgresConnection()
    connection.notificationHandler = onNotification
    connection.closeHandler = onClose
    connection.noticeReceiver = configuration.noticeHandler.map(NoticeReceiver.init)
    connection.statements = PreparedStatements(
      limit: configuration.preparedStatements ? PreparedStatements.defaultLimit : 0)
    connection.answerTimeout = configuration.statementTimeout.map {
      $0 + configuration.answerMargin
    }
    try await withCheckedThrowingContinuation { continuation in
      connection.reactor.execute {
        connection.startConnecting(configuration, continuation: continuation)
      }
    }
    return connection
  }

  /// Runs statements as one pipeline: one round trip, one implicit transaction (the
  /// statements carry no BEGIN or COMMIT of their own). Throws the first statement's error.
  package func execute(_ queries: [PostgresQuery]) async throws -> [PostgresResult] {
    try await withCheckedThrowingContinuation { continuation in
      reactor.execute { self.start(.pipeline(queries), continuation: continuation) }
    }
  }

  /// Runs one statement.
  package func query(_ query: PostgresQuery) async throws -> PostgresResult {
    try await execute([query])[0]
  }

  /// Runs SQL text with the simple protocol (several statements, no binds): migrations only.
  package func run(unsafeSQL sql: String) async throws {
    _ = try await withCheckedThrowingContinuation { continuation in
      reactor.execute { self.start(.simple(sql), continuation: continuation) }
    }
  }

  /// Closes the connection; pending work fails with `.unavailable`.
  package func close() {
    reactor.execute {
      self.shutdown(StoreError(.unavailable, serverMessage: "connection closed"))
    }
  }

  func markClosed() {
    closedFlag.store(true, ordering: .releasing)
  }
}

/// An asynchronous notification received on a connection that ran LISTEN.
package struct PostgresNotification: Sendable {
  package var channel: String
  package var payload: String
}

/// The Swift side of libpq's notice receiver (a C function pointer with a context argument).
final class NoticeReceiver: Sendable {
  let handler: @Sendable (String) -> Void

  init(_ handler: @escaping @Sendable (String) -> Void) { self.handler = handler }

  static let callback: PQnoticeReceiver = { context, result in
    guard let context, let result, let text = chatd_pq_primary_message(result) else { return }
    Unmanaged<NoticeReceiver>.fromOpaque(context).takeUnretainedValue().handler(
      String(cString: text))
  }
}
