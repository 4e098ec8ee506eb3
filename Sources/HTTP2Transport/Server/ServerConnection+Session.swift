import NIOCore
import RPCCore

extension ServerConnection: NGHTTP2SessionDelegate {
  func streamOpened(_ streamID: Int32) {
    streams[streamID] = ServerStream(
      id: streamID, connection: self, maxMessageSize: configuration.maxReceiveMessageSize)
    observer?.streamOpened()
    streamCountChanged()
    // The client has used the last stream id (2^31 - 1): it can open no other stream here, so
    // the connection drains like an old one, and a GOAWAY tells the client to reconnect
    // rather than wrap around (which nghttp2 would silently ignore).
    if streamID == Int32.max {
      beginGracefulShutdown(grace: configuration.shutdownGracePeriod)
    }
  }

  func headerReceived(
    _ streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
  )
    -> Bool
  {
    guard let stream = streams[streamID], stream.method == nil else { return true }
    // nghttp2 does not enforce SETTINGS_MAX_HEADER_LIST_SIZE, and HPACK lets a few bytes
    // expand to kilobytes: past the budget nothing more is kept, and the complete block is
    // answered RESOURCE_EXHAUSTED (a reset would reach the client as INTERNAL).
    stream.headerBytes += name.count + value.count + 32
    guard stream.headerBytes <= Int(configuration.maxHeaderListSize) else { return true }
    stream.head.add(name: name, value: value)
    return true
  }

  func headersComplete(_ streamID: Int32, endStream: Bool) {
    guard let stream = streams[streamID] else { return }
    if stream.method == nil, !stream.isFinished {
      route(stream)
    }
    if endStream { endOfStreamReceived(streamID) }
  }

  func dataReceived(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer) {
    guard let stream = streams[streamID] else {
      session.consumeConnection(count: bytes.count)
      return
    }
    stream.receive(bytes)
  }

  func endOfStreamReceived(_ streamID: Int32) {
    guard let stream = streams[streamID] else { return }
    stream.finishInbound()
    if let kind = stream.method?.descriptor.kind, !kind.clientStreams, !stream.isFinished {
      ready.append(stream)
    }
  }

  func streamClosed(_ streamID: Int32, errorCode: UInt32) {
    guard let stream = streams.removeValue(forKey: streamID) else { return }
    stream.closedBySession()
    observer?.streamClosed()
    streamCountChanged()
  }

  func readData(_ streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session
    .DataRead
  {
    guard let stream = streams[streamID] else { return .deferred }
    return stream.read(into: buffer)
  }

  func endOfStreamSent(_ streamID: Int32) {
    // The response is complete; a client still sending is told to stop (RFC 9113 §8.1).
    if !session.isRemoteClosed(streamID: streamID) {
      session.resetStream(streamID: streamID, errorCode: .noError)
    }
  }

  func headersNotSent(_ streamID: Int32) {
    // The client would wait forever for headers or trailers that will never come.
    session.resetStream(streamID: streamID, errorCode: .internalError)
  }

  func pingAcknowledged(_ payload: UInt64) {
    keepaliveAcknowledged(payload)
  }

  func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) {}

  func settingsReceived() {
    prefaceCompleted()
  }
}
