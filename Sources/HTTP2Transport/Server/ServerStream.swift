import NIOCore
import RPCCore

/// One RPC on a server connection: request head, inbound messages, outbound bytes, status.
///
/// - Important: its state belongs to the connection's event loop. Handlers may call in from
///   other threads; every entry point hops to the loop first.
final class ServerStream: @unchecked Sendable {
  // What a fan-out delivery touches comes first, in declaration order (Swift keeps it for a
  // class): the flags, the connection and the outbound queue share a cache line or two
  // instead of five, and at 5,000 subscribers each stream's lines are cold
  // (docs/benchmarks.md, "session 10").
  let id: Int32
  /// nghttp2 has closed the stream: nothing more may be submitted for it.
  private(set) var closed = false
  private var headersSubmitted = false
  private var compressResponses = false
  /// Messages may be compressed only if the response headers said `grpc-encoding: gzip`.
  private var headersAnnounceGzip = false
  let connection: ServerConnection
  private var pending = OutboundMessages()
  /// Writers waiting for the queue to drain; several tasks may share one writer.
  private var waitingWriters: [EventLoopPromise<Void>] = []
  private var finalStatus: Status?

  var head = RequestHead()
  /// Bytes of the request header block so far (RFC 9113 accounting: name + value + 32).
  var headerBytes = 0
  var method: ServerMethod?
  var deadline: ContinuousClock.Instant?

  // Inbound.
  let maxMessageSize: Int
  var deframer: MessageDeframer
  var requestCompressed = false
  /// Whole messages not yet taken by the handler, from `inboundHead` on.
  private var inbound: [MessageDeframer.Message] = []
  private var inboundHead = 0
  private var inboundBytes = 0
  var inboundFinished = false
  var inboundFailure: RPCError?
  private var waitingReader: EventLoopPromise<[UInt8]?>?
  /// Received DATA bytes not yet handed back to the stream's flow-control window.
  private var unconsumedBytes = 0
  private(set) var lastRequestMessageWasCompressed = false

  // Outbound, besides the fields at the top.
  private var initialMetadata = Metadata()
  private var trailingMetadata = Metadata()
  /// Told how the call ends, once; nil when nobody watches or the end was reported.
  /// (NIO's clock: a third cheaper to read than `ContinuousClock` on Linux.)
  private var observation: (observer: any CallObserver, startedAt: NIODeadline)?

  var task: Task<Void, Never>?
  /// The handler has returned: nothing is left to cancel.
  private var handlerReturned = false
  var deadlineTimer: Scheduled<Void>?

  /// Bytes queued for sending past which writers wait; they resume below half.
  private static let outboundHighWater = 64 * 1024
  /// Bytes of whole messages queued for the handler past which the receive window stays shut.
  private static let inboundHighWater = 1024 * 1024

  init(id: Int32, connection: ServerConnection, maxMessageSize: Int) {
    self.id = id
    self.connection = connection
    self.maxMessageSize = maxMessageSize
    self.deframer = MessageDeframer(maxMessageSize: maxMessageSize)
  }

  var isFinished: Bool { finalStatus != nil }
  var eventLoop: any EventLoop { connection.eventLoop }

  /// The call is routed to a method whose observer wants its start and end.
  func observe(_ observer: any CallObserver) {
    observation = (observer, .now())
    observer.callStarted()
  }

  /// The status the client will see is decided: the one place that sets it.
  private func settle(_ status: Status) {
    finalStatus = status
    reportEnd(status.code)
  }

  private func reportEnd(_ code: Status.Code) {
    guard let (observer, startedAt) = observation else { return }
    observation = nil
    observer.callFinished(
      code: code, duration: .nanoseconds((NIODeadline.now() - startedAt).nanoseconds))
  }

  // MARK: Inbound, on the loop

  /// Takes DATA bytes from nghttp2; whole messages are queued or fail the call.
  func receive(_ bytes: UnsafeRawBufferPointer) {
    guard inboundFailure == nil, !isFinished else {
      connection.session.consume(streamID: id, count: bytes.count)
      return
    }
    // The connection window reopens at once, so a few slow streams cannot stall the others;
    // the stream's own window waits for its handler.
    connection.session.consumeConnection(count: bytes.count)
    unconsumedBytes += bytes.count
    do {
      try deframer.process(bytes) { try enqueue($0) }
    } catch let error as RPCError {
      failInbound(error)
    } catch MessageDeframer.Failure.tooLarge(let declared) {
      failInbound(Self.tooLarge(declared, limit: maxMessageSize))
    } catch {
      failInbound(RPCError(code: .internalError, message: "invalid gRPC message framing"))
    }
    reopenWindowIfRoom()
  }

  private func enqueue(_ message: MessageDeframer.Message) throws {
    var message = message
    if message.compressed {
      guard requestCompressed else {
        throw RPCError(
          code: .internalError,
          message: "a message is flagged compressed but the request has no grpc-encoding")
      }
      do {
        message.bytes = try Gzip.decompress(message.bytes, limit: maxMessageSize)
      } catch .tooLarge {
        throw Self.tooLarge(nil, limit: maxMessageSize)
      } catch {
        throw RPCError(code: .internalError, message: "a gzip message could not be decompressed")
      }
    }
    if let kind = method?.descriptor.kind, !kind.clientStreams, inbound.count - inboundHead >= 1 {
      throw RPCError(
        code: .internalError,
        message: "the client sent more than one request message for a unary request")
    }
    inbound.append(message)
    // The 5-byte prefix counts too: empty messages must not queue for free.
    inboundBytes += 5 + message.bytes.count
    if let reader = waitingReader {
      waitingReader = nil
      reader.succeed(dequeue())
    }
  }

  private static func tooLarge(_ declared: Int?, limit: Int) -> RPCError {
    let size = declared.map { "\($0) bytes" } ?? "more bytes"
    return RPCError(
      code: .resourceExhausted,
      message: "request message of \(size) is larger than the limit of \(limit) bytes")
  }

  /// The peer sent END_STREAM: bytes left in the deframer mean a truncated message.
  func finishInbound() {
    guard !inboundFinished else { return }
    inboundFinished = true
    if inboundFailure == nil, deframer.pendingByteCount > 0 {
      failInbound(
        RPCError(
          code: .internalError,
          message: "the request ended inside a message (\(deframer.pendingByteCount) bytes left)"))
      return
    }
    if let reader = waitingReader, inboundHead == inbound.count {
      waitingReader = nil
      reader.succeed(nil)
    }
  }

  /// Inbound failed: a handler reading messages sees the error; the call ends with it.
  func failInbound(_ error: RPCError) {
    guard inboundFailure == nil else { return }
    inboundFailure = error
    inbound.removeAll()
    inboundHead = 0
    inboundBytes = 0
    if let reader = waitingReader {
      waitingReader = nil
      reader.fail(error)
    }
    finish(error.status, error.metadata)
    cancelHandlerSoon()
  }

  /// The request of a unary or server-streaming call: exactly one message.
  func takeSingleRequest() -> Result<[UInt8], RPCError> {
    if let inboundFailure { return .failure(inboundFailure) }
    guard inbound.count == 1, let bytes = dequeue() else {
      let problem = inbound.isEmpty ? "no request message" : "more than one request message"
      return .failure(
        RPCError(code: .internalError, message: "the client sent \(problem) for a unary request"))
    }
    return .success(bytes)
  }

  private func dequeue() -> [UInt8]? {
    guard inboundHead < inbound.count else { return nil }
    let message = inbound[inboundHead]
    inboundHead += 1
    if inboundHead == inbound.count {
      inbound.removeAll(keepingCapacity: true)
      inboundHead = 0
    }
    inboundBytes -= 5 + message.bytes.count
    lastRequestMessageWasCompressed = message.compressed
    reopenWindowIfRoom()
    return message.bytes
  }

  /// Hands received bytes back to flow control unless the handler lags too far behind.
  private func reopenWindowIfRoom() {
    guard unconsumedBytes > 0, inboundBytes < Self.inboundHighWater, !closed else { return }
    connection.session.consumeStream(streamID: id, count: unconsumedBytes)
    unconsumedBytes = 0
    connection.scheduleFlush()
  }

  private func nextOnLoop() -> EventLoopFuture<[UInt8]?> {
    if let bytes = dequeue() { return eventLoop.makeSucceededFuture(bytes) }
    if let inboundFailure { return eventLoop.makeFailedFuture(inboundFailure) }
    if inboundFinished { return eventLoop.makeSucceededFuture(nil) }
    let promise = eventLoop.makePromise(of: [UInt8]?.self)
    waitingReader = promise
    return promise.futureResult
  }

  // MARK: Outbound, on the loop

  func writeOnLoop(_ message: [UInt8]) throws -> EventLoopFuture<Void>? {
    guard !closed, !isFinished else {
      throw RPCError(code: .cancelled, message: "the call has ended")
    }
    queue(message)
    guard pending.pendingBytes > Self.outboundHighWater else { return nil }
    let promise = eventLoop.makePromise(of: Void.self)
    waitingWriters.append(promise)
    return promise.futureResult
  }

  /// Fan-out's write from the loop: never waits, so a full queue is the caller's to handle.
  func writeDirectly(_ message: [UInt8]) -> DirectWriteResult {
    eventLoop.preconditionInEventLoop()
    guard !closed, !isFinished else { return .ended }
    guard pending.pendingBytes <= Self.outboundHighWater, waitingWriters.isEmpty else {
      return .backedUp
    }
    queue(message)
    return .written
  }

  private func queue(_ message: [UInt8]) {
    let resume = headersSubmitted
    submitHeadersIfNeeded()
    let compressed = compressResponses && headersAnnounceGzip
    pending.append(compressed ? Gzip.compress(message) : message, compressed: compressed)
    if resume { connection.session.resumeData(streamID: id) }
    connection.scheduleFlush()
  }

  private func submitHeadersIfNeeded() {
    guard !headersSubmitted else { return }
    headersSubmitted = true
    headersAnnounceGzip = compressResponses
    connection.session.submitResponse(
      streamID: id, headers: ResponseHead.headers(initialMetadata, compressed: compressResponses),
      hasBody: true)
  }

  /// Ends a request that is not gRPC at all with an HTTP status and a trailers-only block.
  func refuse(_ status: Status, httpStatus: Int) {
    guard !isFinished, !closed else { return }
    settle(status)
    inboundFailure = RPCError(status)
    connection.session.submitResponse(
      streamID: id, headers: ResponseHead.trailersOnly(status, [:], httpStatus: httpStatus),
      hasBody: false)
    connection.scheduleFlush()
  }

  /// Ends the call with a status: trailers after the queued messages, or trailers-only.
  func finish(_ status: Status, _ metadata: Metadata) {
    guard !isFinished, !closed else { return }
    settle(status)
    trailingMetadata.append(contentsOf: metadata)
    deadlineTimer?.cancel()
    deadlineTimer = nil
    if headersSubmitted {
      connection.session.resumeData(streamID: id)
    } else {
      var all = initialMetadata
      all.append(contentsOf: trailingMetadata)
      connection.session.submitResponse(
        streamID: id, headers: ResponseHead.trailersOnly(status, all), hasBody: false)
    }
    failWriters(RPCError(code: .cancelled, message: "the call has ended"))
    connection.scheduleFlush()
  }

  /// nghttp2 asks for body bytes within the peer's window.
  func read(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
    let count = pending.read(into: buffer)
    if pending.pendingBytes <= Self.outboundHighWater / 2, !waitingWriters.isEmpty {
      let writers = waitingWriters
      waitingWriters.removeAll()
      for writer in writers { writer.succeed(()) }
    }
    if pending.isEmpty, let finalStatus {
      return .last(count, trailers: ResponseHead.trailers(finalStatus, trailingMetadata))
    }
    return count > 0 ? .data(count) : .deferred
  }

  /// nghttp2 closed the stream (reset, or both sides done): stop the handler, free waiters.
  func closedBySession() {
    closed = true
    // Reset (or the connection lost) before any status: the client saw the call cancelled.
    reportEnd(.cancelled)
    deadlineTimer?.cancel()
    deadlineTimer = nil
    cancelHandlerSoon()
    let cancelled = RPCError(code: .cancelled, message: "the call was cancelled")
    if !inboundFinished, inboundFailure == nil { inboundFailure = cancelled }
    waitingReader?.fail(cancelled)
    waitingReader = nil
    failWriters(cancelled)
    unconsumedBytes = 0
  }

  /// Cancels the handler after the current nghttp2 call returns: cancellation handlers run
  /// synchronously and must not re-enter the session from inside its callbacks.
  private func cancelHandlerSoon() {
    guard let task, !handlerReturned else { return }
    eventLoop.execute { task.cancel() }
  }

  private func failWriters(_ error: RPCError) {
    let writers = waitingWriters
    waitingWriters.removeAll()
    for writer in writers { writer.fail(error) }
  }

  /// The deadline passed: the client is told, the handler cancelled.
  func deadlineExceeded() {
    deadlineTimer = nil
    guard !isFinished, !closed else { return }
    cancelHandlerSoon()
    if pending.isEmpty {
      finish(Status(code: .deadlineExceeded, message: "the deadline was exceeded"), [:])
    } else {
      // Trailers would wait behind data a stalled peer may never take: reset instead.
      settle(Status(code: .deadlineExceeded, message: "the deadline was exceeded"))
      failWriters(RPCError(code: .deadlineExceeded, message: "the deadline was exceeded"))
      connection.session.resetStream(streamID: id, errorCode: .cancel)
      connection.scheduleFlush()
    }
  }

  // MARK: Handler side: any thread

  func complete(with result: Result<[UInt8]?, any Error>) {
    guard eventLoop.inEventLoop else {
      eventLoop.execute { self.complete(with: result) }
      return
    }
    handlerReturned = true
    switch result {
    case .success(let response):
      if let response {
        do {
          _ = try writeOnLoop(response)
        } catch {
          return
        }
      }
      finish(.ok, [:])
    case .failure(let error):
      let rpcError = RPCError.from(error)
      if rpcError.code == .internalError, !(error is RPCError) {
        connection.logHandlerError(error, method: method?.descriptor)
      }
      finish(rpcError.status, rpcError.metadata)
    }
  }
}

extension ServerStream: LoopBoundMessageSink, DirectMessageSink {
  var lane: any WriteLane { connection.executor }
  var batch: any WriteBatch { connection }
}

extension ServerStream: MessageSource {
  func next() async throws -> [UInt8]? {
    if eventLoop.inEventLoop {
      if let bytes = dequeue() { return bytes }
      return try await nextOnLoop().get()
    }
    return try await eventLoop.flatSubmit { self.nextOnLoop() }.get()
  }
}

extension ServerStream: ServerCallHandle {
  func setInitialMetadata(_ metadata: Metadata) {
    guard eventLoop.inEventLoop else {
      eventLoop.execute { self.setInitialMetadata(metadata) }
      return
    }
    if !headersSubmitted { initialMetadata = metadata }
  }

  func addTrailingMetadata(_ metadata: Metadata) {
    guard eventLoop.inEventLoop else {
      eventLoop.execute { self.addTrailingMetadata(metadata) }
      return
    }
    trailingMetadata.append(contentsOf: metadata)
  }

  func setResponseCompression(_ enabled: Bool) {
    guard eventLoop.inEventLoop else {
      eventLoop.execute { self.setResponseCompression(enabled) }
      return
    }
    // Each message has its own flag; the headers announce gzip if it was on before them.
    compressResponses = enabled && head.acceptsGzip
  }
}
