import CLibPQ
import Dispatch

/// One request in flight on a connection and the results gathered so far.
final class PendingRequest {
  enum Kind {
    case pipeline([PostgresQuery])
    case simple(String)
  }

  let kind: Kind
  let continuation: CheckedContinuation<[PostgresResult], any Error>
  var results: [PostgresResult] = []
  var error: StoreError?

  init(kind: Kind, continuation: CheckedContinuation<[PostgresResult], any Error>) {
    self.kind = kind
    self.continuation = continuation
  }
}

extension PostgresConnection {
  /// Sends a request. On `queue`.
  func start(
    _ kind: PendingRequest.Kind, continuation: CheckedContinuation<[PostgresResult], any Error>
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
    let request = PendingRequest(kind: kind, continuation: continuation)
    pending = request
    var sent: Bool
    switch kind {
    case .simple(let sql):
      sent = PQsendQuery(conn, sql) == 1
    case .pipeline(let queries):
      sent = PQenterPipelineMode(conn) == 1
      for query in queries where sent {
        sent = send(query, on: conn)
      }
      sent = sent && PQpipelineSync(conn) == 1
    }
    guard sent else { return shutdown(connectionError("send failed")) }
    flush()
    drive()
    if pending === request { watch(ObjectIdentifier(request), since: .now) }
  }

  /// Looks at a request still unanswered every `pokeInterval`. On Linux, dispatch does not
  /// always report a hang-up that arrives right behind data (a server killed just after its
  /// notice "terminating connection"): the socket stays readable, at EOF, and the read source
  /// never fires again, so the request would wait forever (found by the chaos run; see
  /// ResilienceTests). Reading the socket here finds the EOF. A request unanswered past
  /// `answerTimeout` (a paused server) fails the connection.
  private func watch(_ request: ObjectIdentifier, since started: ContinuousClock.Instant) {
    queue.asyncAfter(deadline: .now() + Self.pokeInterval.timeInterval) { [weak self] in
      guard let self, self.isPending(request) else { return }
      self.socketReadable()
      guard self.isPending(request) else { return }
      if let limit = self.answerTimeout, ContinuousClock.now - started >= limit {
        self.shutdown(
          StoreError(.unavailable, serverMessage: "no answer from the server within \(limit)"))
      } else {
        self.watch(request, since: started)
      }
    }
  }

  static var pokeInterval: Duration { .seconds(1) }

  private func isPending(_ request: ObjectIdentifier) -> Bool {
    pending.map(ObjectIdentifier.init) == request
  }

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

  private func send(_ query: PostgresQuery, on conn: OpaquePointer) -> Bool {
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
        request.results.append(Self.convert(result))
      case PGRES_PIPELINE_ABORTED:
        break
      default:
        request.error = request.error ?? Self.error(from: result)
      }
    }
  }

  private func finish(_ request: PendingRequest) {
    pending = nil
    if let error = request.error {
      request.continuation.resume(throwing: error)
    } else {
      request.continuation.resume(returning: request.results)
    }
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
