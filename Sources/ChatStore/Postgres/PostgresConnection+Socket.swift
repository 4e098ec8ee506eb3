import CLibPQ
import Dispatch
import Glibc

extension PostgresConnection {
  /// The persistent read source of a connected socket: results, notifications and EOF.
  func startReading() {
    guard let source = makeSource(writable: false) as? any DispatchSourceRead else { return }
    readSource = source
    source.setEventHandler { self.socketReadable() }
    source.activate()
    startWatchdog()
  }

  private func startWatchdog() {
    let interval = Self.pokeInterval.timeInterval
    let timer = DispatchSource.makeTimerSource(queue: queue)
    timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
    timer.setEventHandler { [weak self] in self?.checkPending() }
    timer.activate()
    watchdog = timer
  }

  /// A source watching a duplicate of libpq's socket, closed by the cancel handler.
  ///
  /// libpq closes its socket itself when it sees EOF, while the source may still be armed;
  /// a new socket could then reuse the fd number and dispatch, which keys its registrations by
  /// number, would never report it. The duplicate keeps the number ours until cancellation.
  func makeSource(writable: Bool) -> (any DispatchSourceProtocol)? {
    let fd = dup(PQsocket(conn))
    guard fd >= 0 else {
      shutdown(connectionError("no socket"))
      return nil
    }
    let source: any DispatchSourceProtocol =
      writable
      ? DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
      : DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
    liveSources += 1
    source.setCancelHandler {
      Glibc.close(fd)
      self.sourceDrained()
    }
    return source
  }

  /// Dispatch may report readiness once per arrival (edge-like), while `PQconsumeInput` reads
  /// only what one `recv` returns: so read until the socket is drained, peeking for more, or
  /// a FIN right behind the server's last message would never be noticed.
  func socketReadable() {
    guard let conn, !closing else { return }
    var lost = false
    var byte: UInt8 = 0
    while true {
      guard PQconsumeInput(conn) == 1 else {
        lost = true
        break
      }
      let peeked = recv(PQsocket(conn), &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
      if peeked > 0 { continue }
      lost = peeked == 0
      break
    }
    deliverNotifications()
    drive()
    // libpq parses no further than a result the caller has not taken: a notification that
    // arrived behind a statement's result (the listener's LISTEN or ping) is parsed only once
    // `drive` has taken it, and must not wait for the socket's next read.
    deliverNotifications()
    if lost || PQstatus(conn) == CONNECTION_BAD {
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
      guard writeSource == nil,
        let source = makeSource(writable: true) as? any DispatchSourceWrite
      else { return }
      writeSource = source
      source.setEventHandler { self.flush() }
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
    watchdog?.cancel()
    watchdog = nil
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
