import CLibPQ
import Foundation

extension PostgresConnection {
  /// Starts `PQconnectStartParams` and polls it as the socket becomes ready. On `reactor`.
  func startConnecting(
    _ configuration: Configuration, continuation: CheckedContinuation<Void, any Error>
  ) {
    connectContinuation = continuation
    var options = "-c TimeZone=UTC -c DateStyle=ISO"
    if let timeout = configuration.statementTimeout {
      options +=
        " -c statement_timeout=\(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)"
    }
    for (name, value) in configuration.settings.sorted(by: { $0.key < $1.key }) {
      options += " -c \(name)=\(value)"
    }
    // The first dbname is expanded as a full connection string; later keywords override it.
    var parameters: [(String, String)] = [
      ("dbname", configuration.conninfo),
      ("application_name", configuration.applicationName),
      ("client_encoding", "UTF8"),
      ("options", options),
    ]
    if let database = configuration.database { parameters.append(("dbname", database)) }
    conn = withCStringArrays(parameters) { keywords, values in
      PQconnectStartParams(keywords, values, 1)
    }
    guard let conn, PQstatus(conn) != CONNECTION_BAD else {
      failConnecting(connectionError("connection could not start"))
      return
    }
    connectTimer = reactor.schedule(at: .now + configuration.connectTimeout) { [weak self] in
      guard let self else { return }
      self.connectTimer = nil
      guard self.connectContinuation != nil else { return }
      self.failConnecting(StoreError(.unavailable, serverMessage: "connect timed out"))
    }
    pollConnect()
  }

  private func pollConnect() {
    guard let conn, connectContinuation != nil else { return }
    switch PQconnectPoll(conn) {
    case PGRES_POLLING_OK:
      finishConnecting()
    case PGRES_POLLING_READING:
      waitForSocket(writable: false)
    case PGRES_POLLING_WRITING:
      waitForSocket(writable: true)
    default:
      failConnecting(connectionError("connection failed"))
    }
  }

  /// A one-shot watch: the socket may change between polls (libpq tries several addresses).
  private func waitForSocket(writable: Bool) {
    guard PQsocket(conn) >= 0 else { return failConnecting(connectionError("no socket")) }
    connectWatch = watchSocket(writable: writable) {
      self.stopWatching(self.connectWatch)
      self.connectWatch = nil
      self.pollConnect()
    }
    if connectWatch == nil { failConnecting(connectionError("no socket")) }
  }

  private func finishConnecting() {
    guard let conn, let continuation = connectContinuation else { return }
    connectContinuation = nil
    if let connectTimer { reactor.cancelTimer(connectTimer) }
    connectTimer = nil
    if let noticeReceiver {
      PQsetNoticeReceiver(
        conn, NoticeReceiver.callback, Unmanaged.passUnretained(noticeReceiver).toOpaque())
    } else {
      chatd_pq_silence_notices(conn)
    }
    guard PQsetnonblocking(conn, 1) == 0 else {
      continuation.resume(throwing: connectionError("nonblocking mode refused"))
      shutdown(StoreError(.unavailable))
      return
    }
    startReading()
    continuation.resume()
  }

  private func failConnecting(_ error: StoreError) {
    let continuation = connectContinuation
    connectContinuation = nil
    shutdown(error)
    continuation?.resume(throwing: error)
  }

  /// The connection-level error libpq holds, as `.unavailable`.
  func connectionError(_ fallback: String) -> StoreError {
    var message = fallback
    if let conn, let text = PQerrorMessage(conn), text.pointee != 0 {
      message = String(cString: text)
    }
    return StoreError(.unavailable, serverMessage: message)
  }
}

/// Runs `body` with NULL-terminated C string arrays of the keys and values; frees them after.
private func withCStringArrays<R>(
  _ pairs: [(String, String)],
  _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
) -> R {
  let keys = pairs.map { UnsafePointer(strdup($0.0)) } + [nil]
  let values = pairs.map { UnsafePointer(strdup($0.1)) } + [nil]
  defer {
    for pointer in keys + values { free(UnsafeMutablePointer(mutating: pointer)) }
  }
  return keys.withUnsafeBufferPointer { keyBuffer in
    values.withUnsafeBufferPointer { valueBuffer in
      body(keyBuffer.baseAddress!, valueBuffer.baseAddress!)
    }
  }
}

extension Duration {
  var timeInterval: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
