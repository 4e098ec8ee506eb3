internal import CNGHTTP2
import NIOCore

/// The one door to libnghttp2: owns an `nghttp2_session` and turns its callbacks into calls
/// on a delegate.
///
/// - Important: confined to one event loop. Callbacks run inside `receive` and `send`, so the
///   delegate must not hold an exclusive access to state those callbacks touch across them.
final class NGHTTP2Session {
  enum Role { case server, client }

  struct Settings {
    var maxConcurrentStreams: UInt32
    var initialWindowSize: UInt32
    var maxFrameSize: UInt32 = 16_384
    var maxHeaderListSize: UInt32
    /// Connection-level receive window; larger than the per-stream one so many streams flow.
    var connectionWindowSize: Int32
  }

  /// What the delegate answers when nghttp2 asks for a stream's next DATA bytes.
  enum DataRead {
    /// Bytes were written into the buffer; more will follow.
    case data(Int)
    /// Nothing to send now; resume with `resumeData(streamID:)` later.
    case deferred
    /// The last bytes of the body, followed by trailers.
    case last(Int, trailers: HeaderBlock)
    /// The last bytes of the body, which ends the stream (client requests).
    case end(Int)
  }

  private var session: OpaquePointer?
  unowned(unsafe) let delegate: any NGHTTP2SessionDelegate

  init(role: Role, settings: Settings, delegate: any NGHTTP2SessionDelegate) {
    self.delegate = delegate
    var callbacks: OpaquePointer?
    precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2: out of memory")
    defer { nghttp2_session_callbacks_del(callbacks) }
    Self.install(callbacks)

    var option: OpaquePointer?
    precondition(nghttp2_option_new(&option) == 0, "nghttp2: out of memory")
    defer { nghttp2_option_del(option) }
    // Receive windows open only as handlers read, so a slow handler bounds what a peer can send.
    nghttp2_option_set_no_auto_window_update(option, 1)
    // Rapid reset (CVE-2023-44487): at most 1,000 resets, refilled at 33 per second.
    nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33)
    nghttp2_option_set_max_outbound_ack(option, 1000)
    nghttp2_option_set_max_settings(option, 64)
    // nghttp2 otherwise keeps every closed stream (224 bytes and a map slot each), up to
    // SETTINGS_MAX_CONCURRENT_STREAMS of them per connection, in case an RFC 7540 PRIORITY
    // frame names it later; gRPC never uses priorities, so a connection that served many
    // calls would hold them for nothing.
    nghttp2_option_set_no_closed_streams(option, 1)

    let userData = Unmanaged.passUnretained(self).toOpaque()
    let created: Int32
    switch role {
    case .server: created = nghttp2_session_server_new3(&session, callbacks, userData, option, nil)
    case .client: created = nghttp2_session_client_new3(&session, callbacks, userData, option, nil)
    }
    precondition(created == 0, "nghttp2: cannot create a session")

    var entries = [
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
        value: settings.maxConcurrentStreams),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
        value: settings.initialWindowSize),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
        value: settings.maxHeaderListSize),
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
    ]
    if role == .client { entries.removeFirst() }
    _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
    _ = nghttp2_session_set_local_window_size(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize)
  }

  deinit {
    nghttp2_session_del(session)
  }

  // MARK: Bytes in and out

  struct ProtocolError: Error, CustomStringConvertible {
    let code: Int32
    var description: String { String(cString: nghttp2_strerror(code)) }
  }

  /// Feeds received bytes; callbacks run before it returns.
  func receive(_ buffer: ByteBuffer) throws(ProtocolError) {
    let result = buffer.withUnsafeReadableBytes { bytes in
      nghttp2_session_mem_recv(
        session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    if result < 0 { throw ProtocolError(code: Int32(result)) }
  }

  /// Appends every frame nghttp2 has ready (within the peer's flow-control windows).
  func send(into buffer: inout ByteBuffer) throws(ProtocolError) {
    while true {
      var pointer: UnsafePointer<UInt8>?
      let count = nghttp2_session_mem_send(session, &pointer)
      if count < 0 { throw ProtocolError(code: Int32(count)) }
      guard count > 0, let pointer else { return }
      // The pointer is valid only until the next call: copy out now.
      buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
    }
  }

  var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
  var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
  var lastProcessedStreamID: Int32 { nghttp2_session_get_last_proc_stream_id(session) }

  // MARK: Submitting frames

  /// Response HEADERS; with `hasBody` false they end the stream (trailers-only).
  func submitResponse(streamID: Int32, headers: HeaderBlock, hasBody: Bool) {
    headers.withNameValues { nva, count in
      if hasBody {
        var provider = Self.dataProvider
        _ = nghttp2_submit_response(session, streamID, nva, count, &provider)
      } else {
        _ = nghttp2_submit_response(session, streamID, nva, count, nil)
      }
    }
  }

  /// A request on a new stream; returns its id, or nil when no stream can be opened.
  func submitRequest(headers: HeaderList) -> Int32? {
    let id = headers.withNameValues { nva, count in
      var provider = Self.dataProvider
      return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
    }
    return id > 0 ? id : nil
  }

  func resumeData(streamID: Int32) {
    _ = nghttp2_session_resume_data(session, streamID)
  }

  func resetStream(streamID: Int32, errorCode: HTTP2ErrorCode) {
    _ = nghttp2_submit_rst_stream(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode.rawValue)
  }

  /// The first step of a graceful GOAWAY: tells the peer to open no new streams.
  func submitShutdownNotice() {
    _ = nghttp2_submit_shutdown_notice(session)
  }

  func submitGoAway(lastStreamID: Int32, errorCode: HTTP2ErrorCode, debug: String = "") {
    var debugBytes = Array(debug.utf8)
    _ = nghttp2_submit_goaway(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastStreamID, errorCode.rawValue, &debugBytes,
      debugBytes.count)
  }

  func submitPing(_ payload: UInt64) {
    var bytes = payload.bigEndian
    withUnsafeBytes(of: &bytes) { raw in
      _ = nghttp2_submit_ping(
        session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
        raw.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
  }

  /// Tells nghttp2 the application has taken `count` bytes of a stream's DATA, reopening windows.
  func consume(streamID: Int32, count: Int) {
    guard count > 0 else { return }
    _ = nghttp2_session_consume(session, streamID, count)
  }

  /// Reopens only the stream's window.
  func consumeStream(streamID: Int32, count: Int) {
    guard count > 0 else { return }
    _ = nghttp2_session_consume_stream(session, streamID, count)
  }

  /// Reopens only the connection window.
  func consumeConnection(count: Int) {
    guard count > 0 else { return }
    _ = nghttp2_session_consume_connection(session, count)
  }

  func isRemoteClosed(streamID: Int32) -> Bool {
    nghttp2_session_get_stream_remote_close(session, streamID) != 0
  }

  /// Whether nghttp2 still keeps state for the stream (open, or closed and retained).
  func holdsStream(_ streamID: Int32) -> Bool {
    nghttp2_session_find_stream(session, streamID) != nil
  }
}

/// HTTP/2 error codes (RFC 9113 §7) used in RST_STREAM and GOAWAY.
struct HTTP2ErrorCode: Hashable {
  let rawValue: UInt32
  static let noError = HTTP2ErrorCode(rawValue: 0)
  static let protocolError = HTTP2ErrorCode(rawValue: 1)
  static let internalError = HTTP2ErrorCode(rawValue: 2)
  static let flowControlError = HTTP2ErrorCode(rawValue: 3)
  static let refusedStream = HTTP2ErrorCode(rawValue: 7)
  static let cancel = HTTP2ErrorCode(rawValue: 8)
  static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 11)
}
