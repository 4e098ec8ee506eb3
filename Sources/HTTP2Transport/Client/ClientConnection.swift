import NIOCore
import RPCCore

/// The client side of one HTTP/2 connection: opens streams for calls, feeds nghttp2.
///
/// - Important: confined to its channel's event loop.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  let eventLoop: any EventLoop
  /// Where the calls' response readers run: a message read is then no hop between threads.
  let executor: EventLoopTaskExecutor
  let authority: String
  let scheme: String
  let maxMessageSize: Int
  private(set) var session: NGHTTP2Session!
  private var context: ChannelHandlerContext?
  private var streams: [Int32: ClientStream] = [:]
  private var inRead = false
  private var flushScheduled = false
  /// The server sent GOAWAY or the socket closed: new calls need a new connection.
  private(set) var isUsable = true
  /// Why the connection failed (a TLS handshake error, say), for the calls it fails.
  private(set) var failure: (any Error)?

  init(eventLoop: any EventLoop, authority: String, scheme: String, maxMessageSize: Int) {
    self.eventLoop = eventLoop
    self.executor = EventLoopTaskExecutor(eventLoop)
    self.authority = authority
    self.scheme = scheme
    self.maxMessageSize = maxMessageSize
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    session = NGHTTP2Session(
      role: .client,
      settings: .init(
        maxConcurrentStreams: 100, initialWindowSize: 1 << 20, maxHeaderListSize: 64 << 10,
        connectionWindowSize: 8 << 20),
      delegate: self)
  }

  /// The client's preface goes out once the socket is connected.
  func channelActive(context: ChannelHandlerContext) {
    flush()
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    inRead = true
    defer { inRead = false }
    do {
      try session.receive(unwrapInboundIn(data))
    } catch {
      isUsable = false
      context.close(promise: nil)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    flush()
    context.fireChannelReadComplete()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable { flush() }
  }

  func channelInactive(context: ChannelHandlerContext) {
    isUsable = false
    let all = streams.values
    streams.removeAll()
    for stream in all {
      stream.fail(closedError)
    }
    context.fireChannelInactive()
  }

  /// Why new calls cannot use this connection; carries the failure (a TLS handshake error,
  /// say) when there was one.
  var closedError: RPCError {
    RPCError(
      code: .unavailable,
      message: failure.map { "the connection failed: \($0)" } ?? "the connection is closed")
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    failure = failure ?? error
    context.close(promise: nil)
  }

  /// Opens a stream for a call; fails when the connection can take no more.
  func open(_ method: MethodDescriptor, options: CallOptions) throws -> ClientStream {
    eventLoop.preconditionInEventLoop()
    guard isUsable else { throw closedError }
    var headers: HeaderList = [
      (":method", "POST"), (":scheme", scheme), (":path", method.path), (":authority", authority),
      ("content-type", "application/grpc"), ("te", "trailers"),
      ("grpc-accept-encoding", "identity,gzip"), ("user-agent", "chatd-swift/0.1"),
    ]
    if let timeout = options.timeout { headers.append("grpc-timeout", GRPCTimeout.format(timeout)) }
    for entry in options.metadata {
      switch entry.value {
      case .string(let value): headers.append(entry.key, value)
      case .binary(let bytes): headers.append(entry.key, Base64.encode(bytes, padded: false))
      }
    }
    let stream = ClientStream(connection: self, method: method, maxMessageSize: maxMessageSize)
    guard let id = session.submitRequest(headers: headers) else {
      // Stream ids exhausted (or the session is closing): the next call opens a connection.
      isUsable = false
      throw RPCError(code: .unavailable, message: "no more streams on this connection")
    }
    stream.opened(as: id)
    streams[id] = stream
    scheduleFlush()
    return stream
  }

  func scheduleFlush() {
    guard !inRead, !flushScheduled else { return }
    flushScheduled = true
    eventLoop.execute {
      self.flushScheduled = false
      self.flush()
    }
  }

  func flush() {
    guard let context, context.channel.isActive, context.channel.isWritable else { return }
    var buffer = context.channel.allocator.buffer(capacity: 0)
    do {
      try session.send(into: &buffer)
    } catch {
      context.close(promise: nil)
      return
    }
    if buffer.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
    // nghttp2 ended the session (a protocol error: it has queued its GOAWAY, now written):
    // nothing more will be read, so the calls fail with the closed connection, not hang.
    if !session.wantsRead && !session.wantsWrite {
      isUsable = false
      context.close(promise: nil)
    }
  }
}

extension ClientConnection: NGHTTP2SessionDelegate {
  func streamOpened(_ streamID: Int32) {}

  func headerReceived(
    _ streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
  )
    -> Bool
  {
    streams[streamID]?.header(name: name, value: value)
    return true
  }

  func headersComplete(_ streamID: Int32, endStream: Bool) {
    streams[streamID]?.headersComplete(endStream: endStream)
  }

  func dataReceived(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer) {
    guard let stream = streams[streamID] else {
      session.consumeConnection(count: bytes.count)
      return
    }
    stream.receive(bytes)
  }

  func endOfStreamReceived(_ streamID: Int32) {
    streams[streamID]?.headersComplete(endStream: true)
  }

  func streamClosed(_ streamID: Int32, errorCode: UInt32) {
    streams.removeValue(forKey: streamID)?.closed(errorCode: errorCode)
  }

  func readData(_ streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session
    .DataRead
  {
    streams[streamID]?.read(into: buffer) ?? .deferred
  }

  func endOfStreamSent(_ streamID: Int32) {}

  /// nghttp2 dropped the request before sending it (the connection is going away): the
  /// server never saw the call, so it is safe to retry, hence UNAVAILABLE.
  func headersNotSent(_ streamID: Int32) {
    isUsable = false
    streams[streamID]?.fail(
      RPCError(code: .unavailable, message: "the request was not sent: the connection is closing"))
  }
  func pingAcknowledged(_ payload: UInt64) {}

  func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) {
    isUsable = false
  }
}
