import NIOCore
import RPCCore

/// One call on a client connection: request messages out, response messages and status in.
///
/// - Important: its state belongs to the connection's event loop; entry points from tasks
///   hop there first.
final class ClientStream: @unchecked Sendable {
  private(set) var id: Int32 = 0
  let connection: ClientConnection
  private let method: MethodDescriptor

  // Outbound.
  private var pending = OutboundMessages()
  private var sendingFinished = false
  private var waitingWriter: EventLoopPromise<Void>?

  // Inbound.
  private var responseHead = RequestHead()
  private var httpStatus = ""
  private var headersReceived = false
  private var trailerFields: [(String, String)] = []
  private var deframer: MessageDeframer
  private var messages = CircularBuffer<[UInt8]>()
  private var waitingReader: EventLoopPromise<[UInt8]?>?
  /// Takes every message on the loop instead of the reader (`GRPCClient.serverStreaming`).
  private var onMessage: (@Sendable ([UInt8]) -> Void)?
  private(set) var outcome: RPCError?
  private(set) var ended = false

  private static let outboundHighWater = 64 * 1024

  init(connection: ClientConnection, method: MethodDescriptor, maxMessageSize: Int) {
    self.connection = connection
    self.method = method
    self.deframer = MessageDeframer(maxMessageSize: maxMessageSize)
  }

  var eventLoop: any EventLoop { connection.eventLoop }

  func opened(as id: Int32) { self.id = id }

  // MARK: Outbound, on the loop

  func writeOnLoop(_ message: [UInt8]) throws -> EventLoopFuture<Void>? {
    if let outcome { throw outcome }
    guard !ended, !sendingFinished else {
      throw RPCError(code: .cancelled, message: "the call has ended")
    }
    pending.append(message, compressed: false)
    connection.session.resumeData(streamID: id)
    connection.scheduleFlush()
    guard pending.pendingBytes > Self.outboundHighWater else { return nil }
    let promise = eventLoop.makePromise(of: Void.self)
    waitingWriter = promise
    return promise.futureResult
  }

  func finishSending() {
    guard eventLoop.inEventLoop else {
      eventLoop.execute { self.finishSending() }
      return
    }
    guard !sendingFinished, !ended else { return }
    sendingFinished = true
    connection.session.resumeData(streamID: id)
    connection.scheduleFlush()
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
    let count = pending.read(into: buffer)
    if pending.pendingBytes <= Self.outboundHighWater / 2, let writer = waitingWriter {
      waitingWriter = nil
      writer.succeed(())
    }
    if pending.isEmpty, sendingFinished { return .end(count) }
    return count > 0 ? .data(count) : .deferred
  }

  // MARK: Inbound, on the loop

  func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    if headersReceived {
      trailerFields.append(
        (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    } else if name.equals(":status") {
      httpStatus = String(decoding: value, as: UTF8.self)
    } else {
      responseHead.add(name: name, value: value)
    }
  }

  func headersComplete(endStream: Bool) {
    if !headersReceived {
      headersReceived = true
      // Not a gRPC response (a proxy's error page, say): the HTTP status decides.
      if !endStream, httpStatus != "200" || !responseHead.isGRPC {
        fail(RPCError(Self.statusFromHTTP(httpStatus)))
        return
      }
      // A trailers-only response carries its status among the headers.
      if endStream { trailerFields = responseHead.metadata.map { ($0.key, Self.text($0.value)) } }
    }
    if endStream { end() }
  }

  func receive(_ bytes: UnsafeRawBufferPointer) {
    connection.session.consume(streamID: id, count: bytes.count)
    let limit = deframer.maxMessageSize
    let gzip = responseHead.encoding == "gzip"
    do {
      try deframer.process(bytes) { message in
        var payload = message.bytes
        if message.compressed {
          guard gzip else {
            throw RPCError(
              code: .internalError, message: "compressed message without grpc-encoding")
          }
          payload = try Gzip.decompress(payload, limit: limit)
        }
        deliver(payload)
      }
    } catch {
      fail(
        (error as? RPCError)
          ?? RPCError(code: .resourceExhausted, message: "response message too large or malformed"))
    }
  }

  /// From now on every message goes to `handler`, on the loop, the queued ones first.
  func tap(_ handler: @escaping @Sendable ([UInt8]) -> Void) {
    onMessage = handler
    while let message = messages.popFirst() { handler(message) }
  }

  private func deliver(_ message: [UInt8]) {
    if let onMessage {
      onMessage(message)
    } else if let reader = waitingReader {
      waitingReader = nil
      reader.succeed(message)
    } else {
      messages.append(message)
    }
  }

  /// The response ended: its status comes from the trailers.
  private func end() {
    guard !ended else { return }
    var metadata = Metadata()
    var code: Int?
    var message = ""
    for (name, value) in trailerFields {
      switch name {
      case "grpc-status": code = Int(value)
      case "grpc-message": message = PercentEncoding.decode(value)
      default:
        if name.hasSuffix("-bin") {
          if let bytes = Base64.decode(value) { metadata.addBinary(bytes, forKey: name) }
        } else {
          metadata.addString(value, forKey: name)
        }
      }
    }
    let status: Status
    if let code {
      status = Status(code: Status.Code(rawValue: code), message: message)
    } else {
      status = Self.statusFromHTTP(httpStatus)
    }
    finish(status.code == .ok ? nil : RPCError(status, metadata: metadata))
  }

  func fail(_ error: RPCError) {
    guard !ended else { return }
    finish(error)
    connection.session.resetStream(streamID: id, errorCode: .cancel)
    connection.scheduleFlush()
  }

  /// nghttp2 closed the stream; without a status the call failed on the transport.
  func closed(errorCode: UInt32) {
    guard !ended else { return }
    finish(RPCError(Self.statusFromReset(errorCode)))
  }

  /// The gRPC spec's mapping of RST_STREAM codes received before a status.
  static func statusFromReset(_ errorCode: UInt32) -> Status {
    let code: Status.Code =
      switch errorCode {
      case HTTP2ErrorCode.refusedStream.rawValue: .unavailable
      case HTTP2ErrorCode.cancel.rawValue: .cancelled
      case HTTP2ErrorCode.enhanceYourCalm.rawValue: .resourceExhausted
      case 12: .permissionDenied  // INADEQUATE_SECURITY
      default: .internalError
      }
    return Status(code: code, message: "the stream was reset (HTTP/2 error \(errorCode))")
  }

  private func finish(_ error: RPCError?) {
    ended = true
    outcome = error
    if let reader = waitingReader {
      waitingReader = nil
      if let error { reader.fail(error) } else { reader.succeed(nil) }
    }
    waitingWriter?.fail(error ?? RPCError(code: .cancelled, message: "the call has ended"))
    waitingWriter = nil
  }

  private func nextOnLoop() -> EventLoopFuture<[UInt8]?> {
    if let message = messages.popFirst() { return eventLoop.makeSucceededFuture(message) }
    if ended {
      if let outcome { return eventLoop.makeFailedFuture(outcome) }
      return eventLoop.makeSucceededFuture(nil)
    }
    let promise = eventLoop.makePromise(of: [UInt8]?.self)
    waitingReader = promise
    return promise.futureResult
  }

  private static func text(_ value: Metadata.Value) -> String {
    switch value {
    case .string(let text): text
    case .binary(let bytes): Base64.encode(bytes, padded: false)
    }
  }

  /// The gRPC spec's mapping for responses without grpc-status.
  static func statusFromHTTP(_ status: String) -> Status {
    let code: Status.Code =
      switch status {
      case "400": .internalError
      case "401": .unauthenticated
      case "403": .permissionDenied
      case "404": .unimplemented
      case "429", "502", "503", "504": .unavailable
      default: .unknown
      }
    return Status(code: code, message: "HTTP status \(status) without grpc-status")
  }
}

extension ClientStream: LoopBoundMessageSink {}

extension ClientStream: MessageSource {
  func next() async throws -> [UInt8]? {
    guard eventLoop.inEventLoop else {
      return try await eventLoop.flatSubmit { self.nextOnLoop() }.get()
    }
    if let message = messages.popFirst() { return message }
    return try await nextOnLoop().get()
  }
}
