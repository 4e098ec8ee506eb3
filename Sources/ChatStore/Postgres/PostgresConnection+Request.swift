import CLibPQ

/// One request in flight on a connection and the results gathered so far.
final class PendingRequest {
  enum Kind {
    case pipeline([PostgresQuery])
    case simple(String)
  }

  /// What a pipeline's commands answer, in the order they were sent.
  enum Slot {
    /// A caller's statement: its result is the caller's.
    case statement(prepared: Bool)
    /// The Parse of a statement about to run under `name`.
    case prepare(sql: String, name: String)
    /// `DEALLOCATE ALL`.
    case deallocation
  }

  let kind: Kind
  let continuation: CheckedContinuation<[PostgresResult], any Error>
  /// Whether this is the request's second sending (see `PostgresConnection.retryable`).
  let isRetry: Bool
  var slots: [Slot] = []
  private var nextSlot = 0
  var results: [PostgresResult] = []
  var error: StoreError?
  /// Whether the first error came from a statement run prepared.
  var errorWasPrepared = false
  /// The session was outside any transaction block when the request was sent.
  var startedIdle = false

  init(
    kind: Kind, continuation: CheckedContinuation<[PostgresResult], any Error>,
    isRetry: Bool = false
  ) {
    self.kind = kind
    self.continuation = continuation
    self.isRetry = isRetry
  }

  /// The slot of the next result; a simple-protocol request has only statements.
  func takeSlot() -> Slot {
    defer { nextSlot += 1 }
    return nextSlot < slots.count ? slots[nextSlot] : .statement(prepared: false)
  }
}

extension PostgresConnection {
  /// Sends a request. On `reactor`.
  func start(
    _ kind: PendingRequest.Kind, continuation: CheckedContinuation<[PostgresResult], any Error>,
    isRetry: Bool = false
  ) {
    guard let conn, !closing else {
      return continuation.resume(throwing: StoreError(.unavailable, serverMessage: "closed"))
    }
    guard pending == nil else {
      return continuation.resume(throwing: StoreError(.internalError, serverMessage: "busy"))
    }
    if case .pipeline(let queries) = kind, let refusal = Self.refusal(queries) {
      return continuation.resume(throwing: refusal)
    }
    let request = PendingRequest(kind: kind, continuation: continuation, isRetry: isRetry)
    request.startedIdle = PQtransactionStatus(conn) == PQTRANS_IDLE
    pending = request
    pendingSince = .now
    var sent: Bool
    switch kind {
    case .simple(let sql):
      sent = PQsendQuery(conn, sql) == 1
    case .pipeline(let queries):
      sent = PQenterPipelineMode(conn) == 1
      // Outside a transaction block only: in an aborted one it would fail the request.
      if sent, statements.needsDeallocation, request.startedIdle {
        sent = PQsendQueryParams(conn, "DEALLOCATE ALL", 0, nil, nil, nil, nil, 0) == 1
        request.slots.append(.deallocation)
        statements.deallocated()
      }
      var preparing: [String: String] = [:]
      for query in queries where sent {
        sent = send(query, on: conn, for: request, preparing: &preparing)
      }
      sent = sent && PQpipelineSync(conn) == 1
    }
    guard sent else { return shutdown(connectionError("send failed")) }
    flush()
    drive()
  }

  /// The watchdog's look, every `pokeInterval`, at a request unanswered for that long: it
  /// reads the socket once more, a belt to the read watch's braces for a hang-up that arrives
  /// right behind data (a server killed just after its notice "terminating connection"; under
  /// Dispatch the read source then never fired again, found by the chaos run, see
  /// ResilienceTests). A request unanswered past `answerTimeout` (a paused server) fails the
  /// connection.
  ///
  /// One timer per connection (`startWatchdog`), not one per request: it is set again after
  /// each look, not per round trip.
  func checkPending() {
    guard let request = pending, ContinuousClock.now - pendingSince >= Self.pokeInterval else {
      return
    }
    socketReadable()
    guard pending === request else { return }
    if let limit = answerTimeout, ContinuousClock.now - pendingSince >= limit {
      shutdown(StoreError(.unavailable, serverMessage: "no answer from the server within \(limit)"))
    }
  }

  static var pokeInterval: Duration { .seconds(1) }

  /// Text binds travel as C strings, so a NUL byte would silently truncate the value: refuse it.
  private static func refusal(_ queries: [PostgresQuery]) -> StoreError? {
    for query in queries {
      for bind in query.binds {
        if case .text(let bytes) = bind, bytes.contains(0) {
          return StoreError(.invalidInput, serverMessage: "NUL byte in a text value")
        }
      }
    }
    return nil
  }

  /// Sends `query` under its prepared name, preparing it first (in the same pipeline) when
  /// this connection has not yet; `preparing` holds the names this pipeline prepares, for a
  /// text that comes twice.
  private func send(
    _ query: PostgresQuery, on conn: OpaquePointer, for request: PendingRequest,
    preparing: inout [String: String]
  ) -> Bool {
    var name = statements.name(for: query.sql) ?? preparing[query.sql]
    if name == nil, let fresh = statements.newName(pending: preparing.count) {
      guard PQsendPrepare(conn, fresh, query.sql, Int32(query.binds.count), nil) == 1 else {
        return false
      }
      request.slots.append(.prepare(sql: query.sql, name: fresh))
      preparing[query.sql] = fresh
      name = fresh
    }
    request.slots.append(.statement(prepared: name != nil))
    return send(query, named: name, on: conn)
  }

  private func send(_ query: PostgresQuery, named name: String?, on conn: OpaquePointer) -> Bool {
    var storage: [UInt8] = []
    var offsets: [Int] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    for bind in query.binds {
      offsets.append(storage.count)
      switch bind {
      case .null:
        offsets[offsets.count - 1] = -1
        lengths.append(0)
        formats.append(0)
      case .text(let bytes):
        storage += bytes
        storage.append(0)
        lengths.append(Int32(bytes.count))
        formats.append(0)
      case .binary(let bytes):
        storage += bytes
        storage.append(0)
        lengths.append(Int32(bytes.count))
        formats.append(1)
      }
    }
    return storage.withUnsafeBufferPointer { buffer in
      let base = UnsafeRawPointer(buffer.baseAddress)
      let values: [UnsafePointer<CChar>?] = offsets.map { offset in
        guard offset >= 0, let base else { return nil }
        return (base + offset).assumingMemoryBound(to: CChar.self)
      }
      if let name {
        return PQsendQueryPrepared(
          conn, name, Int32(values.count), values, lengths, formats, 0) == 1
      }
      return PQsendQueryParams(
        conn, query.sql, Int32(values.count), nil, values, lengths, formats, 0) == 1
    }
  }

  /// Reads every result that is complete without blocking; finishes the request at its end.
  func drive() {
    guard let request = pending else { return }
    var previousWasEnd = false
    while let conn, PQisBusy(conn) == 0 {
      guard let result = PQgetResult(conn) else {
        // Simple protocol: the end. Pipeline: the end of one statement's results; two ends in
        // a row mean nothing more is coming now: a lost connection, or wait for input.
        if case .simple = request.kind { return finish(request) }
        if previousWasEnd {
          if PQstatus(conn) == CONNECTION_BAD { shutdown(connectionError("connection lost")) }
          return
        }
        previousWasEnd = true
        continue
      }
      previousWasEnd = false
      defer { PQclear(result) }
      switch PQresultStatus(result) {
      case PGRES_PIPELINE_SYNC:
        PQexitPipelineMode(conn)
        return finish(request)
      case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
        switch request.takeSlot() {
        case .statement: request.results.append(Self.convert(result))
        case .prepare(let sql, let name): statements.confirm(sql, as: name)
        case .deallocation: break
        }
      case PGRES_PIPELINE_ABORTED:
        _ = request.takeSlot()
      default:
        let slot = request.takeSlot()
        if request.error == nil {
          request.error = Self.error(from: result)
          if case .statement(prepared: true) = slot { request.errorWasPrepared = true }
        }
      }
    }
  }

  private func finish(_ request: PendingRequest) {
    pending = nil
    if let error = request.error {
      if request.errorWasPrepared, error.sqlState == Self.changedResultType {
        statements.forgetAll()
        if retryable(request) {
          return start(request.kind, continuation: request.continuation, isRetry: true)
        }
      }
      request.continuation.resume(throwing: error)
    } else {
      request.continuation.resume(returning: request.results)
    }
  }

  /// "cached plan must not change result type" is feature_not_supported: a migration changed
  /// the columns a prepared statement returns (a table that `SELECT *` reads gained one).
  /// The statement must be prepared again.
  private static let changedResultType = "0A000"

  /// A request is sent again, once, when it was a whole transaction of its own: the session
  /// was outside a transaction block before it and is again after it, so its implicit
  /// transaction rolled back entirely and nothing of it took effect. (Pipelines carry no
  /// BEGIN or COMMIT of their own; `PostgresPool.withTransaction` sends those apart, and
  /// its statements fail to the caller instead.)
  private func retryable(_ request: PendingRequest) -> Bool {
    guard !request.isRetry, request.startedIdle, let conn else { return false }
    return PQtransactionStatus(conn) == PQTRANS_IDLE
  }

  private static func convert(_ result: OpaquePointer) -> PostgresResult {
    let columnCount = PQnfields(result)
    let columns = PostgresColumns(
      names: (0..<columnCount).map { String(cString: PQfname(result, $0)) })
    var rows: [PostgresRow] = []
    let rowCount = PQntuples(result)
    rows.reserveCapacity(Int(rowCount))
    for row in 0..<rowCount {
      let values: [[UInt8]?] = (0..<columnCount).map { column in
        if PQgetisnull(result, row, column) == 1 { return nil }
        let length = Int(PQgetlength(result, row, column))
        return PQgetvalue(result, row, column).withMemoryRebound(to: UInt8.self, capacity: length) {
          Array(UnsafeBufferPointer(start: $0, count: length))
        }
      }
      rows.append(PostgresRow(columns: columns, values: values))
    }
    let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
    return PostgresResult(rows: rows, affectedRows: affected)
  }

  private static func error(from result: OpaquePointer) -> StoreError {
    let state = chatd_pq_sqlstate(result).map { String(cString: $0) }
    let message =
      chatd_pq_primary_message(result).map { String(cString: $0) }
      ?? String(cString: PQresultErrorMessage(result))
    return StoreError(
      state.map(StoreError.kind(forSQLState:)) ?? .unavailable,
      sqlState: state,
      constraint: chatd_pq_constraint(result).map { String(cString: $0) },
      serverMessage: message)
  }
}
