import NIOCore

/// The timers of a connection: keepalive PINGs, idle close, maximum age, graceful drain.
struct ConnectionLifecycle {
  var started = false
  var draining = false
  /// The client's preface and first SETTINGS arrived; until then `preface` is armed.
  var prefaceReceived = false
  var preface: Scheduled<Void>?
  var keepalive: RepeatedTask?
  var keepaliveDeadline: Scheduled<Void>?
  var pingsSent: UInt64 = 0
  var idle: Scheduled<Void>?
  /// When the last stream ended; the idle timer measures from here.
  var idleSince = NIODeadline.uptimeNanoseconds(0)
  var age: Scheduled<Void>?
  var finalGoAway: Scheduled<Void>?
  var grace: Scheduled<Void>?

  mutating func cancelAll() {
    preface?.cancel()
    keepalive?.cancel()
    keepaliveDeadline?.cancel()
    idle?.cancel()
    age?.cancel()
    finalGoAway?.cancel()
    grace?.cancel()
    self = ConnectionLifecycle(
      started: started, draining: draining, prefaceReceived: prefaceReceived, idleSince: idleSince
    )
  }
}

extension ServerConnection {
  func startTimers() {
    if let timeout = configuration.prefaceTimeout {
      lifecycle.preface = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
        self.lifecycle.preface = nil
        guard !self.lifecycle.prefaceReceived else { return }
        self.logger.debug(
          "closing a connection that did not send the HTTP/2 preface in time",
          metadata: ["peer": "\(self.peer)"])
        self.closeNow()
      }
    }
    if let interval = configuration.keepaliveInterval {
      lifecycle.keepalive = eventLoop.scheduleRepeatedTask(
        initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
      ) { _ in self.sendKeepalive() }
    }
    if let maxAge = configuration.maxConnectionAge {
      lifecycle.age = eventLoop.scheduleTask(in: TimeAmount(maxAge)) {
        self.beginGracefulShutdown(grace: self.configuration.shutdownGracePeriod)
      }
    }
    streamCountChanged()
  }

  func stopTimers() {
    lifecycle.cancelAll()
  }

  /// Idle connections close; a draining one closes when its last stream ends.
  ///
  /// The idle timer is not rescheduled per call: it is armed once and, when it fires,
  /// checks how long the connection has really been idle.
  func streamCountChanged() {
    guard streams.isEmpty else { return }
    lifecycle.idleSince = eventLoop.now
    if lifecycle.draining, lifecycle.finalGoAway == nil {
      scheduleFlush()
    } else if lifecycle.idle == nil, let maxIdle = configuration.maxConnectionIdle {
      armIdleTimer(at: lifecycle.idleSince + TimeAmount(maxIdle))
    }
  }

  private func armIdleTimer(at deadline: NIODeadline) {
    lifecycle.idle = eventLoop.scheduleTask(deadline: deadline) {
      self.lifecycle.idle = nil
      guard self.streams.isEmpty, let maxIdle = self.configuration.maxConnectionIdle else {
        return  // Busy: the next time the last stream ends re-arms the timer.
      }
      let idleUntil = self.lifecycle.idleSince + TimeAmount(maxIdle)
      if idleUntil > self.eventLoop.now {
        self.armIdleTimer(at: idleUntil)
      } else {
        self.beginGracefulShutdown(grace: .seconds(1))
      }
    }
  }

  private func sendKeepalive() {
    guard lifecycle.keepaliveDeadline == nil else { return }
    lifecycle.pingsSent += 1
    session.submitPing(lifecycle.pingsSent)
    flush()
    lifecycle.keepaliveDeadline = eventLoop.scheduleTask(
      in: TimeAmount(configuration.keepaliveTimeout)
    ) {
      self.logger.debug(
        "closing a connection that did not answer a keepalive PING",
        metadata: ["peer": "\(self.peer)"])
      self.closeNow()
    }
  }

  /// The first SETTINGS frame ends the preface: nghttp2 has checked the magic before it.
  func prefaceCompleted() {
    guard !lifecycle.prefaceReceived else { return }
    lifecycle.prefaceReceived = true
    lifecycle.preface?.cancel()
    lifecycle.preface = nil
  }

  func keepaliveAcknowledged(_ payload: UInt64) {
    guard payload == lifecycle.pingsSent else { return }
    lifecycle.keepaliveDeadline?.cancel()
    lifecycle.keepaliveDeadline = nil
  }

  /// GOAWAY in two steps (a notice, then the last stream id a second later, so requests in
  /// flight are not refused), calls drain for `grace`, then the connection closes.
  func beginGracefulShutdown(grace: Duration) {
    guard !lifecycle.draining else { return }
    lifecycle.draining = true
    session.submitShutdownNotice()
    flush()
    let noticeDelay = min(grace, .seconds(1))
    lifecycle.finalGoAway = eventLoop.scheduleTask(in: TimeAmount(noticeDelay)) {
      self.lifecycle.finalGoAway = nil
      self.session.submitGoAway(
        lastStreamID: self.session.lastProcessedStreamID, errorCode: .noError)
      self.flush()
    }
    lifecycle.grace = eventLoop.scheduleTask(in: TimeAmount(grace)) {
      self.closeNow()
    }
  }
}
