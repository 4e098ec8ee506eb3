internal import CNGHTTP2

/// What an `NGHTTP2Session` reports, in the order nghttp2 parses frames.
protocol NGHTTP2SessionDelegate: AnyObject {
  /// A HEADERS frame opens a new stream (a request, on a server).
  func streamOpened(_ streamID: Int32)
  /// One header field; return false to reset the stream.
  func headerReceived(
    _ streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
  )
    -> Bool
  /// A complete header block (request or response headers, or trailers).
  func headersComplete(_ streamID: Int32, endStream: Bool)
  func dataReceived(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer)
  /// The peer finished sending on the stream (END_STREAM on a DATA frame).
  func endOfStreamReceived(_ streamID: Int32)
  func streamClosed(_ streamID: Int32, errorCode: UInt32)
  /// nghttp2 asks for up to `buffer.count` bytes of the stream's body.
  func readData(_ streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session
    .DataRead
  /// We sent a frame that ended our side of the stream.
  func endOfStreamSent(_ streamID: Int32)
  /// nghttp2 could not send a HEADERS frame of the stream (e.g. a header block too large).
  func headersNotSent(_ streamID: Int32)
  func pingAcknowledged(_ payload: UInt64)
  func goAwayReceived(lastStreamID: Int32, errorCode: UInt32)
  /// A SETTINGS frame from the peer (not an acknowledgement): on a server, the first one
  /// completes the client's connection preface.
  func settingsReceived()
}

extension NGHTTP2SessionDelegate {
  func settingsReceived() {}
}

// C callbacks cannot capture: they reach their session through user data, and these
// constants live at file scope so no closure captures `Self`.
private func owner(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
  Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
}

private let headersType = UInt8(NGHTTP2_HEADERS.rawValue)
private let dataType = UInt8(NGHTTP2_DATA.rawValue)
private let pingType = UInt8(NGHTTP2_PING.rawValue)
private let goAwayType = UInt8(NGHTTP2_GOAWAY.rawValue)
private let settingsType = UInt8(NGHTTP2_SETTINGS.rawValue)
private let endStreamFlag = UInt8(NGHTTP2_FLAG_END_STREAM.rawValue)
private let ackFlag = UInt8(NGHTTP2_FLAG_ACK.rawValue)

extension NGHTTP2Session {
  /// Every callback is registered here, in one place (nghttp2's own examples do the same).
  static func install(_ callbacks: OpaquePointer?) {
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
      guard let frame, frame.pointee.hd.type == headersType else { return 0 }
      let category = frame.pointee.headers.cat
      if category == NGHTTP2_HCAT_REQUEST {
        owner(userData).delegate.streamOpened(frame.pointee.hd.stream_id)
      }
      return 0
    }
    nghttp2_session_callbacks_set_on_header_callback(callbacks) {
      _, frame, name, nameLength, value, valueLength, _, userData in
      guard let frame else { return 0 }
      let accepted = owner(userData).delegate.headerReceived(
        frame.pointee.hd.stream_id,
        name: UnsafeRawBufferPointer(start: name, count: nameLength),
        value: UnsafeRawBufferPointer(start: value, count: valueLength))
      return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
      guard let frame else { return 0 }
      let header = frame.pointee.hd
      let delegate = owner(userData).delegate
      switch header.type {
      case headersType:
        delegate.headersComplete(header.stream_id, endStream: header.flags & endStreamFlag != 0)
      case dataType where header.flags & endStreamFlag != 0:
        delegate.endOfStreamReceived(header.stream_id)
      case pingType where header.flags & ackFlag != 0:
        let payload = withUnsafeBytes(of: frame.pointee.ping.opaque_data) {
          $0.loadUnaligned(as: UInt64.self)
        }
        delegate.pingAcknowledged(UInt64(bigEndian: payload))
      case settingsType where header.flags & ackFlag == 0:
        delegate.settingsReceived()
      case goAwayType:
        delegate.goAwayReceived(
          lastStreamID: frame.pointee.goaway.last_stream_id,
          errorCode: frame.pointee.goaway.error_code)
      default:
        break
      }
      return 0
    }
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
      _, _, streamID, data, length, userData in
      owner(userData).delegate.dataReceived(
        streamID, UnsafeRawBufferPointer(start: data, count: length))
      return 0
    }
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) {
      _, streamID, errorCode, userData in
      owner(userData).delegate.streamClosed(streamID, errorCode: errorCode)
      return 0
    }
    nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks) {
      _, frame, _, userData in
      guard let frame, frame.pointee.hd.type == headersType else { return 0 }
      owner(userData).delegate.headersNotSent(frame.pointee.hd.stream_id)
      return 0
    }
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
      guard let frame else { return 0 }
      let header = frame.pointee.hd
      if header.flags & endStreamFlag != 0, header.type == headersType || header.type == dataType {
        owner(userData).delegate.endOfStreamSent(header.stream_id)
      }
      return 0
    }
  }

  /// Every body is read through the delegate; the stream id tells whose it is.
  static var dataProvider: nghttp2_data_provider {
    nghttp2_data_provider(
      source: nghttp2_data_source(ptr: nil),
      read_callback: { session, streamID, buffer, length, flags, _, userData in
        let owner = owner(userData)
        let target = UnsafeMutableRawBufferPointer(start: buffer, count: length)
        switch owner.delegate.readData(streamID, into: target) {
        case .data(let count):
          return count
        case .deferred:
          return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .last(let count, let trailers):
          flags!.pointee |=
            NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
          trailers.withNameValues { nva, nvCount in
            _ = nghttp2_submit_trailer(session, streamID, nva, nvCount)
          }
          return count
        case .end(let count):
          flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
          return count
        }
      })
  }
}
