import NIOCore

/// Splits a stream's DATA bytes into gRPC length-prefixed messages (1-byte flag, 4-byte length).
struct MessageDeframer {
  struct Message {
    var bytes: [UInt8]
    var compressed: Bool
  }

  enum Failure: Error, Equatable {
    /// The declared length exceeds the receive limit.
    case tooLarge(declared: Int)
    /// The flag byte is neither 0 nor 1.
    case invalidFlag(UInt8)
  }

  let maxMessageSize: Int
  private var buffer = ByteBuffer()

  init(maxMessageSize: Int) {
    self.maxMessageSize = maxMessageSize
  }

  /// Bytes received but not yet a whole message; non-zero at END_STREAM means truncation.
  var pendingByteCount: Int { buffer.readableBytes }

  mutating func append(_ bytes: UnsafeRawBufferPointer) {
    buffer.writeBytes(bytes)
  }

  /// The next whole message, if one has arrived. Checks the declared length before buffering
  /// the body, so an oversized message is refused at its prefix.
  mutating func next() throws(Failure) -> Message? {
    guard buffer.readableBytes >= 5,
      let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
      let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
    else { return nil }
    guard flag <= 1 else { throw .invalidFlag(flag) }
    guard Int(length) <= maxMessageSize else { throw .tooLarge(declared: Int(length)) }
    guard buffer.readableBytes >= 5 + Int(length) else { return nil }
    buffer.moveReaderIndex(forwardBy: 5)
    let bytes = buffer.readBytes(length: Int(length))!
    if buffer.readableBytes == 0 { buffer.clear() }
    return Message(bytes: bytes, compressed: flag == 1)
  }
}

enum MessageFramer {
  /// Appends one length-prefixed message.
  static func frame(_ message: [UInt8], compressed: Bool, into buffer: inout ByteBuffer) {
    buffer.writeInteger(UInt8(compressed ? 1 : 0))
    buffer.writeInteger(UInt32(message.count))
    buffer.writeBytes(message)
  }
}
