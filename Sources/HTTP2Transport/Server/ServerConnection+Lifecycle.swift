import NIOCore

/// The timers of a connection: keepalive PINGs, idle close, maximum age, graceful drain.
///
/// Keepalive, idleness and age share one timer, armed at the earliest of their deadlines:
/// a connection that lives for hours holds one scheduled task rather than three (a repeated
/// task with its promise among them), and each event loop's timer heap one entry per
/// connection. The preface, an unanswered PING and the drain have timers of their own: each
/// exists only for a few seconds of a connection's life.
struct ConnectionLifecycle {
  var started = false
  var draining = false
  /// The client's preface and first SETTINGS arrived; until then `preface` is armed.
  var prefaceReceived = false
  var preface: Scheduled<Void>?
  /// When the next keepalive PING is due; nil without keepalive.
  var nextPing: NIODeadline?
  var keepaliveDeadline: Scheduled<Void>?
  var pingsSent: UInt64 = 0
  /// When the last stream ended; the idle deadline counts from here.
  var idleSince = NIODeadline.uptimeNanoseconds(0)
  /// When the connection drains for its age; nil without a maximum age.
  var ageDeadline: NIODeadline?
  /// The shared timer and when it fires. It may fire early (a deadline moved later since it
  /// was armed): it then only re-arms, so moving a deadline later never reschedules it.
  var timer: Scheduled<Void>?
  var timerDeadline: NIODeadline?
  var finalGoAway: Scheduled<Void>?
  var grace: Scheduled<Void>?

  mutating func cancelAll() {
    preface?.cancel()
    keepaliveDeadline?.cancel()
    timer?.cancel()
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
    let now = eventLoop.now
    lifecycle.nextPing = configuration.keepaliveInterval.map { now + TimeAmount($0) }
    lifecycle.ageDeadline = configuration.maxConnectionAge.map { now + TimeAmount($0) }
    streamCountChanged()
    armTimer()
  }

  func stopTimers() {
    lifecycle.cancelAll()
  }

  /// Idle connections close; a draining one closes when its last stream ends.
  ///
  /// Busy connections cost the timer nothing: a stream ending moves the idle deadline later,
  /// and the timer, when it fires, finds the connection busy or idle for less than the limit.
  func streamCountChanged() {
    guard streams.isEmpty else { return }
    lifecycle.idleSince = eventLoop.now
    if lifecycle.draining, lifecycle.finalGoAway == nil {
      scheduleFlush()
    } else {
      armTimer()
    }
  }

  /// When the connection is idle for too long, if it is idle now.
  private var idleDeadline: NIODeadline? {
    guard streams.isEmpty, !lifecycle.draining, let maxIdle = configuration.maxConnectionIdle
    else { return nil }
    return lifecycle.idleSince + TimeAmount(maxIdle)
  }

  /// Arms the shared timer for the earliest deadline, unless it already fires by then.
  private func armTimer() {
    guard lifecycle.started else { return }
    let age = lifecycle.draining ? nil : lifecycle.ageDeadline
    guard let next = Self.earliest(Self.earliest(lifecycle.nextPing, age), idleDeadline) else {
      return
    }
    if let armed = lifecycle.timerDeadline, lifecycle.timer != nil, armed <= next { return }
    lifecycle.timer?.cancel()
    lifecycle.timerDeadline = next
    lifecycle.timer = eventLoop.scheduleTask(deadline: next) { self.timerFired() }
  }

  private static func earliest(_ a: NIODeadline?, _ b: NIODeadline?) -> NIODeadline? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a, b)
  }

  private func timerFired() {
    lifecycle.timer = nil
    lifecycle.timerDeadline = nil
    let now = eventLoop.now
    if let due = lifecycle.nextPing, due <= now, let interval = configuration.keepaliveInterval {
      lifecycle.nextPing = now + TimeAmount(interval)
      sendKeepalive()
    }
    if let due = lifecycle.ageDeadline, due <= now, !lifecycle.draining {
      lifecycle.ageDeadline = nil
      beginGracefulShutdown(grace: configuration.shutdownGracePeriod)
    }
    if let due = idleDeadline, due <= now {
      beginGracefulShutdown(grace: .seconds(1))
    }
    armTimer()
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
