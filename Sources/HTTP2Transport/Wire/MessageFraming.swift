/// Splits a stream's DATA bytes into gRPC length-prefixed messages (1-byte flag, 4-byte length).
///
/// Messages that arrive whole in one chunk are taken straight from it; only a partial message
/// is copied aside until the rest arrives.
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
  private var partial: [UInt8] = []

  init(maxMessageSize: Int) {
    self.maxMessageSize = maxMessageSize
  }

  /// Bytes received but not yet a whole message; non-zero at END_STREAM means truncation.
  var pendingByteCount: Int { partial.count }

  /// Hands every whole message in `bytes` (after any partial one kept from before) to `body`.
  /// The declared length is checked at the prefix, before any body byte is kept.
  mutating func process(
    _ bytes: UnsafeRawBufferPointer, _ body: (Message) throws -> Void
  ) throws {
    if partial.isEmpty {
      let consumed = try Self.parse(bytes, limit: maxMessageSize, body)
      // Most reads end on a message boundary: no need to touch the (cold) partial buffer.
      if consumed < bytes.count { partial.append(contentsOf: bytes[consumed...]) }
    } else {
      partial.append(contentsOf: bytes)
      let consumed = try partial.withUnsafeBytes { try Self.parse($0, limit: maxMessageSize, body) }
      partial.removeFirst(consumed)
    }
    // A prefix is checked as soon as it is complete, even while its body is still arriving.
    if partial.count >= 5 {
      try Self.checkPrefix(partial[0], Self.length(partial), limit: maxMessageSize)
    }
  }

  /// Parses whole messages; returns how many bytes they took.
  private static func parse(
    _ bytes: UnsafeRawBufferPointer, limit: Int, _ body: (Message) throws -> Void
  ) throws -> Int {
    var offset = 0
    while bytes.count - offset >= 5 {
      let flag = bytes[offset]
      let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self).bigEndian)
      try checkPrefix(flag, length, limit: limit)
      guard bytes.count - offset - 5 >= length else { break }
      let start = offset + 5
      try body(Message(bytes: Array(bytes[start..<start + length]), compressed: flag == 1))
      offset = start + length
    }
    return offset
  }

  private static func checkPrefix(_ flag: UInt8, _ length: Int, limit: Int) throws(Failure) {
    guard flag <= 1 else { throw .invalidFlag(flag) }
    guard length <= limit else { throw .tooLarge(declared: length) }
  }

  private static func length(_ prefix: [UInt8]) -> Int {
    Int(prefix[1]) << 24 | Int(prefix[2]) << 16 | Int(prefix[3]) << 8 | Int(prefix[4])
  }
}

/// Messages waiting to be sent on a stream, framed on the fly as nghttp2 reads them: no
/// intermediate buffer and no copy beyond the one into nghttp2's frame.
///
/// The message being read lives in the struct itself, and only those behind it in an array:
/// a fan-out stream holds one message at a time, and its own array would be one more cold
/// cache line per delivery (the first load of `read` was 85% of its samples at 5,000
/// subscribers; docs/benchmarks.md, "session 9").
struct OutboundMessages {
  private typealias Message = (payload: [UInt8], compressed: Bool)

  /// The message being read; nil when nothing is pending.
  private var current: Message?
  /// Messages after `current`, in order, from `next` on.
  private var later: [Message] = []
  private var next = 0
  /// Bytes of the current message's frame (prefix included) already read.
  private var offset = 0
  private(set) var pendingBytes = 0

  var isEmpty: Bool { pendingBytes == 0 }

  mutating func append(_ payload: [UInt8], compressed: Bool) {
    if current == nil {
      current = (payload, compressed)
    } else {
      later.append((payload, compressed))
    }
    pendingBytes += 5 + payload.count
  }

  /// Copies up to `buffer.count` framed bytes; returns how many.
  mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
    var written = 0
    while written < buffer.count, let (payload, compressed) = current {
      while offset < 5, written < buffer.count {
        buffer[written] = Self.prefixByte(offset, of: payload.count, compressed: compressed)
        offset += 1
        written += 1
      }
      let start = offset - 5
      let count = min(payload.count - start, buffer.count - written)
      if count > 0 {
        payload.withUnsafeBytes { source in
          UnsafeMutableRawBufferPointer(rebasing: buffer[written..<written + count])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + count]))
        }
        offset += count
        written += count
      }
      if offset == 5 + payload.count { advance() }
    }
    pendingBytes -= written
    return written
  }

  /// Byte `index` (0-4) of a message's gRPC prefix: the compressed flag, then the length.
  private static func prefixByte(_ index: Int, of length: Int, compressed: Bool) -> UInt8 {
    if index == 0 { return compressed ? 1 : 0 }
    return UInt8(truncatingIfNeeded: UInt32(length) >> (8 * (4 - index)))
  }

  /// The current message is read: the next one becomes current.
  private mutating func advance() {
    offset = 0
    guard next < later.count else {
      current = nil
      return
    }
    current = later[next]
    next += 1
    if next == later.count {
      // The empty array again, not a kept buffer: a stream that queues one message at a
      // time never touches memory of its own for the queue.
      later = []
      next = 0
    } else if next >= 64 {
      later.removeFirst(next)
      next = 0
    }
  }
}
