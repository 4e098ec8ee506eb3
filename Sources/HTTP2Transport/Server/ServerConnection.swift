import Logging
import NIOCore
import RPCCore
import TLS

/// One client connection: feeds bytes to nghttp2, routes requests to handlers, writes what
/// nghttp2 produces once per event-loop tick.
///
/// - Important: confined to its channel's event loop.
final class ServerConnection: ChannelInboundHandler, WriteBatch, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  let configuration: GRPCServerConfiguration
  let router: RPCRouter
  let observer: (any ServerObserver)?
  let logger: Logger
  let eventLoop: any EventLoop
  private(set) var session: NGHTTP2Session!
  private var context: ChannelHandlerContext?
  let executor: EventLoopTaskExecutor
  var peer = "unknown"
  /// The verified client certificate, set by the TLS handshake before any request arrives.
  var peerIdentity: PeerIdentity?

  var streams: [Int32: ServerStream] = [:]
  /// Streams whose request completed during the current `receive`; started after it returns,
  /// so no handler runs inside an nghttp2 callback.
  var ready: [ServerStream] = []
  private var inRead = false
  private var flushScheduled = false
  var lifecycle = ConnectionLifecycle()

  init(
    configuration: GRPCServerConfiguration, router: RPCRouter,
    observer: (any ServerObserver)? = nil, logger: Logger, eventLoop: any EventLoop,
    executor: EventLoopTaskExecutor? = nil
  ) {
    self.configuration = configuration
    self.router = router
    self.observer = observer
    self.logger = logger
    self.eventLoop = eventLoop
    self.executor = executor ?? EventLoopTaskExecutor(eventLoop)
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    peer = context.channel.remoteAddress.map(Self.describe) ?? "unknown"
    session = NGHTTP2Session(
      role: .server,
      settings: .init(
        maxConcurrentStreams: configuration.maxConcurrentStreams,
        initialWindowSize: configuration.initialWindowSize,
        maxHeaderListSize: configuration.maxHeaderListSize,
        connectionWindowSize: Int32(clamping: Int(configuration.initialWindowSize) * 8)),
      delegate: self)
    if context.channel.isActive { channelBecameActive() }
  }

  func channelActive(context: ChannelHandlerContext) {
    channelBecameActive()
    context.fireChannelActive()
  }

  private func channelBecameActive() {
    guard !lifecycle.started else { return }
    lifecycle.started = true
    startTimers()
    flush()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    inRead = true
    defer { inRead = false }
    do {
      try session.receive(buffer)
    } catch {
      logger.debug(
        "closing a connection after an HTTP/2 error",
        metadata: ["peer": "\(peer)", "error": "\(error)"])
      flush()
      context.close(promise: nil)
      return
    }
    startReadyStreams()
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    flush()
    context.fireChannelReadComplete()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable { flush() }
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    closeAllStreams()
    stopTimers()
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    closeAllStreams()
    stopTimers()
    self.context = nil
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    logger.debug("connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
    context.close(promise: nil)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? GracefulShutdownEvent {
      beginGracefulShutdown(grace: event.grace)
    } else if let event = event as? TLSHandshakeCompleted {
      peerIdentity = event.peerCertificate.map {
        PeerIdentity(commonName: $0.commonName, subjectAlternativeNames: $0.subjectAlternativeNames)
      }
      logger.trace(
        "TLS handshake completed",
        metadata: [
          "peer": "\(peer)", "version": "\(event.protocolVersion)", "cipher": "\(event.cipher)",
          "resumed": "\(event.resumed)", "client": "\(peerIdentity?.name ?? "-")",
        ])
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }

  private func closeAllStreams() {
    let all = streams.values
    streams.removeAll()
    for stream in all {
      stream.closedBySession()
      observer?.streamClosed()
    }
  }

  // MARK: Writing

  /// Flushes at the end of this tick; calls within one tick share one write.
  func scheduleFlush() {
    guard !inRead, !flushScheduled else { return }
    flushScheduled = true
    eventLoop.execute {
      // A fan-out job may have flushed already (`flushBatch`).
      guard self.flushScheduled else { return }
      self.flushScheduled = false
      self.flush()
    }
  }

  /// A fan-out job has written an event to this connection's streams: their bytes go out now,
  /// not after the job's other connections (`WriteBatch`).
  func flushBatch() {
    guard flushScheduled else { return }
    flushScheduled = false
    flush()
  }

  /// Writes every frame nghttp2 has ready, unless the socket is full.
  func flush() {
    guard let context, context.channel.isActive else { return }
    guard context.channel.isWritable else { return }
    var buffer = context.channel.allocator.buffer(capacity: 0)
    do {
      try session.send(into: &buffer)
    } catch {
      context.close(promise: nil)
      return
    }
    if buffer.readableBytes > 0 {
      context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
    if !session.wantsRead && !session.wantsWrite {
      context.close(promise: nil)
    }
  }

  /// Closes the socket; every stream's handler is cancelled.
  func closeNow() {
    context?.close(promise: nil)
  }

  func logHandlerError(_ error: any Error, method: MethodDescriptor?) {
    logger.error(
      "handler failed", metadata: ["method": "\(method?.path ?? "?")", "error": "\(error)"])
  }

  private static func describe(_ address: SocketAddress) -> String {
    switch address {
    case .v4(let v4): "ipv4:\(v4.host):\(address.port ?? 0)"
    case .v6(let v6): "ipv6:[\(v6.host)]:\(address.port ?? 0)"
    case .unixDomainSocket: "unix:\(address.pathname ?? "")"
    }
  }
}

/// Asks a connection to drain: GOAWAY, let calls finish within `grace`, then close.
struct GracefulShutdownEvent: Sendable {
  let grace: Duration
}
