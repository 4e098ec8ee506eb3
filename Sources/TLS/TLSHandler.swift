public import NIOCore

/// TLS in a NIO pipeline, in front of a handler that reads and writes plaintext: ciphertext
/// from the socket goes through OpenSSL (`TLSConnection`, memory BIOs, no blocking, no
/// threads) and the plaintext continues down the pipeline; plaintext written back is
/// encrypted and written once per read batch or flush, not once per record.
///
/// Writes made before the handshake completes (an HTTP/2 preface) wait and go out after it.
/// Once done, `TLSHandshakeCompleted` is fired down the pipeline before any application data.
/// A handshake that does not finish within the context's timeout closes the connection;
/// close sends close_notify first. The `SSL` is freed when the handler leaves the pipeline.
///
/// - Important: confined to its channel's event loop.
public final class TLSHandler: ChannelDuplexHandler, @unchecked Sendable {
  public typealias InboundIn = ByteBuffer
  public typealias InboundOut = ByteBuffer
  public typealias OutboundIn = ByteBuffer
  public typealias OutboundOut = ByteBuffer

  private enum State {
    case handshaking
    case open
    /// close_notify is on its way; the socket closes once it is written.
    case closing
    case closed
  }

  private let tlsContext: TLSContext
  private let serverName: String?
  private var connection: TLSConnection?
  private var context: ChannelHandlerContext?
  private var state = State.handshaking
  private var started = false
  private var handshakeTimer: Scheduled<Void>?
  /// Plaintext written before the handshake completed.
  private var waiting: [(ByteBuffer, EventLoopPromise<Void>?)] = []
  /// Writes encrypted into the output BIO, completed when their ciphertext is written.
  private var unflushed: [EventLoopPromise<Void>] = []
  /// Inside channelRead/channelReadComplete: flushes wait for the end of the read batch.
  private var inRead = false

  /// - Parameters:
  ///   - context: a server or client context; the role follows it.
  ///   - serverName: clients only: SNI and the name the server certificate must carry.
  public init(context: TLSContext, serverName: String? = nil) {
    self.tlsContext = context
    self.serverName = serverName
  }

  // MARK: Lifecycle

  public func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    do {
      connection = try TLSConnection(context: tlsContext, serverName: serverName)
    } catch {
      state = .closed
      context.fireErrorCaught(error)
      context.close(promise: nil)
      return
    }
    if context.channel.isActive { start() }
  }

  public func channelActive(context: ChannelHandlerContext) {
    start()
    context.fireChannelActive()
  }

  /// Arms the handshake timeout; a client speaks first.
  private func start() {
    guard !started, let context else { return }
    started = true
    handshakeTimer = context.eventLoop.scheduleTask(in: TimeAmount(tlsContext.handshakeTimeout)) {
      self.handshakeTimedOut()
    }
    if tlsContext.role == .client {
      advanceHandshake()
      flushOutput()
    }
  }

  private func handshakeTimedOut() {
    guard state == .handshaking, let context else { return }
    fail(TLSError.handshakeTimedOut, context: context)
  }

  public func channelInactive(context: ChannelHandlerContext) {
    state = .closed
    release()
    context.fireChannelInactive()
  }

  public func handlerRemoved(context: ChannelHandlerContext) {
    state = .closed
    release()
    connection = nil
    self.context = nil
  }

  /// Cancels the timer and fails every write that will never reach the socket.
  private func release() {
    handshakeTimer?.cancel()
    handshakeTimer = nil
    let pending = waiting.compactMap(\.1) + unflushed
    waiting.removeAll()
    unflushed.removeAll()
    for promise in pending { promise.fail(ChannelError.ioOnClosedChannel) }
  }

  // MARK: Reading

  public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard let connection, state == .handshaking || state == .open else { return }
    inRead = true
    connection.feed(unwrapInboundIn(data))
    if state == .handshaking { advanceHandshake() }
    if state == .open { readPlaintext(connection, context: context) }
  }

  public func channelReadComplete(context: ChannelHandlerContext) {
    // Downstream writes its answers now; they leave in the one write below.
    context.fireChannelReadComplete()
    inRead = false
    flushOutput()
  }

  private func advanceHandshake() {
    guard let connection, let context else { return }
    switch connection.handshake() {
    case .wantRead:
      return
    case .failed(let error):
      fail(error, context: context)
    case .done:
      let summary = connection.handshakeSummary()
      // gRPC is HTTP/2 only: a server that did not pick h2 is of no use. An HTTP/1.1 client
      // takes a server that picked nothing (ALPN is optional there) or http/1.1.
      if tlsContext.role == .client {
        switch (tlsContext.applicationProtocol, summary.applicationProtocol) {
        case (.h2, "h2"), (.http1, nil), (.http1, "http/1.1"): break
        case (.h2, _):
          fail(TLSError("the server did not select ALPN h2"), context: context)
          return
        case (.http1, _):
          fail(TLSError("the server did not select ALPN http/1.1"), context: context)
          return
        }
      }
      handshakeTimer?.cancel()
      handshakeTimer = nil
      state = .open
      context.fireUserInboundEventTriggered(summary)
      let queued = waiting
      waiting.removeAll()
      // Their ciphertext leaves with the next flush (the caller's, or the end of this read).
      for (buffer, promise) in queued { encrypt(buffer, promise: promise) }
    }
  }

  /// Decrypts everything buffered and passes it on as one read.
  private func readPlaintext(_ connection: TLSConnection, context: ChannelHandlerContext) {
    var plaintext = context.channel.allocator.buffer(capacity: 0)
    var outcome = TLSConnection.ReadResult.progress
    while case .progress = outcome {
      outcome = connection.read(into: &plaintext)
    }
    if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
    switch outcome {
    case .progress, .wantRead: break
    case .closed: close(context: context, mode: .all, promise: nil)
    case .failed(let error): fail(error, context: context)
    }
  }

  // MARK: Writing

  public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?)
  {
    let buffer = unwrapOutboundIn(data)
    switch state {
    case .handshaking: waiting.append((buffer, promise))
    case .open: encrypt(buffer, promise: promise)
    case .closing, .closed: promise?.fail(ChannelError.ioOnClosedChannel)
    }
  }

  public func flush(context: ChannelHandlerContext) {
    // During a read batch, channelReadComplete writes once for everything.
    if !inRead, state == .open { flushOutput() }
  }

  private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
    guard let connection, let context else {
      promise?.fail(ChannelError.ioOnClosedChannel)
      return
    }
    if let error = connection.write(buffer) {
      promise?.fail(error)
      fail(error, context: context)
      return
    }
    if let promise { unflushed.append(promise) }
  }

  /// Writes and flushes all ciphertext OpenSSL has produced, as one buffer.
  @discardableResult
  private func flushOutput() -> EventLoopFuture<Void>? {
    guard let connection, let context, connection.hasOutput || !unflushed.isEmpty else {
      return nil
    }
    var ciphertext = context.channel.allocator.buffer(capacity: 0)
    connection.drainOutput(into: &ciphertext)
    let promises = unflushed
    unflushed.removeAll()
    let written = context.writeAndFlush(wrapOutboundOut(ciphertext))
    for promise in promises { written.cascade(to: promise) }
    return written
  }

  // MARK: Closing

  public func close(
    context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?
  ) {
    guard mode == .all, state == .open, let connection else {
      if mode == .all { state = .closed }
      context.close(mode: mode, promise: promise)
      return
    }
    state = .closing
    connection.shutdown()
    guard let written = flushOutput() else {
      context.close(mode: mode, promise: promise)
      return
    }
    // A peer that stops reading delays this; another close (a grace timer) goes straight through.
    written.whenComplete { _ in
      self.state = .closed
      self.context?.close(mode: mode, promise: promise)
    }
  }

  /// Sends what OpenSSL queued (an alert, usually), reports the error and closes.
  private func fail(_ error: any Error, context: ChannelHandlerContext) {
    guard state != .closed else { return }
    flushOutput()
    state = .closed
    release()
    context.fireErrorCaught(error)
    context.close(promise: nil)
  }
}
