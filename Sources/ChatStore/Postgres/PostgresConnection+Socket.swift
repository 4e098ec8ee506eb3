import CLibPQ
import Glibc

/// A watch on a duplicate of libpq's socket (`PostgresConnection.watchSocket`).
struct SocketWatch {
  let token: PostgresReactor.Token
  let fd: Int32
}

extension PostgresConnection {
  /// The persistent read watch of a connected socket: results, notifications and EOF.
  func startReading() {
    readWatch = watchSocket(writable: false) { self.socketReadable() }
    guard readWatch != nil else { return }
    startWatchdog()
  }

  private func startWatchdog() {
    watchdog = reactor.schedule(at: .now + Self.pokeInterval) { [weak self] in
      guard let self, !self.closing else { return }
      self.checkPending()
      if !self.closing { self.startWatchdog() }
    }
  }

  /// Watches a duplicate of libpq's socket, closed by `stopWatching`.
  ///
  /// libpq closes its socket itself when it sees EOF, while the watch may still be set; a new
  /// socket could then reuse the fd number, and epoll, which forgets a descriptor once its
  /// file is closed, would never report the old one's end. The duplicate keeps the file open
  /// until the watch stops.
  func watchSocket(writable: Bool, _ handler: @escaping () -> Void) -> SocketWatch? {
    let fd = dup(PQsocket(conn))
    guard fd >= 0 else {
      shutdown(connectionError("no socket"))
      return nil
    }
    guard let token = reactor.watch(fd, writable: writable, handler) else {
      Glibc.close(fd)
      shutdown(connectionError("the socket cannot be watched"))
      return nil
    }
    return SocketWatch(token: token, fd: fd)
  }

  func stopWatching(_ watch: SocketWatch?) {
    guard let watch else { return }
    reactor.unwatch(watch.token, fd: watch.fd)
    Glibc.close(watch.fd)
  }

  /// `PQconsumeInput` reads only what one `recv` returns: read until the socket is drained,
  /// peeking for more, so that a FIN right behind the server's last message is seen in the
  /// same turn.
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

  /// Sends buffered output; when the socket is full, a write watch finishes the job.
  func flush() {
    guard let conn else { return }
    switch PQflush(conn) {
    case 0:
      stopWatching(writeWatch)
      writeWatch = nil
    case 1:
      guard writeWatch == nil else { return }
      writeWatch = watchSocket(writable: true) { self.flush() }
    default:
      shutdown(connectionError("write failed"))
    }
  }

  /// Fails pending work, stops watching the socket, and frees the connection in a job of its
  /// own: the caller may be in the middle of a libpq call's results.
  func shutdown(_ error: StoreError) {
    guard !closing else { return }
    closing = true
    markClosed()
    if let request = pending {
      pending = nil
      request.continuation.resume(throwing: request.error ?? error)
    }
    for timer in [watchdog, connectTimer] {
      if let timer { reactor.cancelTimer(timer) }
    }
    watchdog = nil
    connectTimer = nil
    for watch in [readWatch, writeWatch, connectWatch] { stopWatching(watch) }
    readWatch = nil
    writeWatch = nil
    connectWatch = nil
    reactor.execute {
      if let conn = self.conn {
        PQfinish(conn)
        self.conn = nil
      }
    }
    closeHandler?()
    closeHandler = nil
    notificationHandler = nil
  }
}
