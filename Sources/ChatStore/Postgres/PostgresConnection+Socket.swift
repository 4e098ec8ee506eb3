import CLibPQ
import Dispatch

extension PostgresConnection {
  /// The persistent read source of a connected socket: results, notifications and EOF.
  func startReading() {
    let source = DispatchSource.makeReadSource(fileDescriptor: PQsocket(conn), queue: queue)
    liveSources += 1
    readSource = source
    source.setEventHandler { self.socketReadable() }
    source.setCancelHandler { self.sourceDrained() }
    source.activate()
  }

  private func socketReadable() {
    guard let conn, !closing else { return }
    guard PQconsumeInput(conn) == 1 else {
      return shutdown(connectionError("connection lost"))
    }
    deliverNotifications()
    drive()
    if PQstatus(conn) == CONNECTION_BAD {
      shutdown(connectionError("connection lost"))
    }
  }

  private func deliverNotifications() {
    while let conn, let notify = PQnotifies(conn) {
      defer { PQfreemem(notify) }
      let notification = PostgresNotification(
        channel: String(cString: notify.pointee.relname),
        payload: notify.pointee.extra.map { String(cString: $0) } ?? "")
      notificationHandler?(notification)
    }
  }

  /// Sends buffered output; when the socket is full, a write source finishes the job.
  func flush() {
    guard let conn else { return }
    switch PQflush(conn) {
    case 0:
      writeSource?.cancel()
      writeSource = nil
    case 1:
      guard writeSource == nil else { return }
      let source = DispatchSource.makeWriteSource(fileDescriptor: PQsocket(conn), queue: queue)
      liveSources += 1
      writeSource = source
      source.setEventHandler { self.flush() }
      source.setCancelHandler { self.sourceDrained() }
      source.activate()
    default:
      shutdown(connectionError("write failed"))
    }
  }

  /// Fails pending work, cancels the sources and frees the connection once they are drained.
  func shutdown(_ error: StoreError) {
    guard !closing else { return }
    closing = true
    markClosed()
    if let request = pending {
      pending = nil
      request.continuation.resume(throwing: request.error ?? error)
    }
    readSource?.cancel()
    writeSource?.cancel()
    connectSource?.cancel()
    readSource = nil
    writeSource = nil
    connectSource = nil
    sourceDrained(count: 0)
    closeHandler?()
    closeHandler = nil
    notificationHandler = nil
  }

  /// A source's cancel handler ran: dispatch no longer watches the fd.
  func sourceDrained(count: Int = 1) {
    liveSources -= count
    if closing, liveSources == 0, let conn {
      PQfinish(conn)
      self.conn = nil
    }
  }
}
