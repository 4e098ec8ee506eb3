import NIOCore
import Testing

@testable import HTTP2Transport

@Suite struct GRPCTimeoutTests {
  @Test(arguments: [
    ("1H", Duration.seconds(3600)), ("2M", .seconds(120)), ("3S", .seconds(3)),
    ("40m", .milliseconds(40)), ("500u", .microseconds(500)),
    ("99999999n", .nanoseconds(99_999_999)),
    ("0S", .zero),
  ])
  func parsesEveryUnit(text: String, expected: Duration) {
    #expect(GRPCTimeout.parse(text) == expected)
  }

  @Test(arguments: ["", "S", "1", "123456789S", "1s", "-1S", "1.5S", "1 S", "abcS"])
  func rejectsMalformedValues(_ text: String) {
    #expect(GRPCTimeout.parse(text) == nil)
  }

  @Test func formatsWithoutShorteningTheDeadline() {
    #expect(GRPCTimeout.format(.milliseconds(250)) == "250000u")
    #expect(GRPCTimeout.format(.seconds(100)) == "100000m")
    #expect(GRPCTimeout.format(.nanoseconds(1)) == "1n")
    #expect(GRPCTimeout.format(.seconds(1_000_000_000)) == "16666667M")
    for duration in [Duration.milliseconds(1), .seconds(5), .microseconds(7)] {
      #expect(GRPCTimeout.parse(GRPCTimeout.format(duration))! >= duration)
    }
  }

  /// Found by FuzzMetadata: the largest grpc-timeout ("99999999H", about 11,000 years)
  /// overflowed when formatted back, trapping the client that sets such a deadline.
  @Test func formatsTheLongestTimeoutsWithoutOverflow() {
    #expect(GRPCTimeout.format(.seconds(99_999_999 * 3_600)) == "99999999H")
    #expect(GRPCTimeout.format(.seconds(Int64.max)) == "99999999H")
    #expect(GRPCTimeout.format(.seconds(100_000)) == "100000S")
    #expect(GRPCTimeout.format(.milliseconds(99_999_500)) == "99999500m")
    #expect(GRPCTimeout.format(.seconds(-5)) == "0n")
    let longest = GRPCTimeout.parse("99999999H")!
    #expect(GRPCTimeout.parse(GRPCTimeout.format(longest)) == longest)
    let odd = Duration.seconds(200_000) + .nanoseconds(1)
    #expect(GRPCTimeout.parse(GRPCTimeout.format(odd))! >= odd)
  }
}

@Suite struct PercentEncodingTests {
  @Test func encodesOnlyWhatTheSpecRequires() {
    #expect(PercentEncoding.encode("plain text: ok") == "plain text: ok")
    #expect(PercentEncoding.encode("100%") == "100%25")
    #expect(PercentEncoding.encode("line\nbreak") == "line%0Abreak")
    #expect(PercentEncoding.encode("\t\u{7F}") == "%09%7F")
    #expect(PercentEncoding.encode("é☃") == "%C3%A9%E2%98%83")
  }

  @Test func decodesAndToleratesMalformedEscapes() {
    #expect(PercentEncoding.decode("%C3%A9%E2%98%83 x") == "é☃ x")
    #expect(PercentEncoding.decode("50%") == "50%")
    #expect(PercentEncoding.decode("%zz%4") == "%zz%4")
    #expect(PercentEncoding.decode("%FF") == "\u{FFFD}")
  }

  @Test func roundTripsArbitraryText() {
    let text = "\t\ndone 100% ✓ \u{0}"
    #expect(PercentEncoding.decode(PercentEncoding.encode(text)) == text)
  }
}

@Suite struct MessageDeframerTests {
  func framed(_ payload: [UInt8], compressed: Bool = false) -> [UInt8] {
    var buffer = ByteBuffer()
    MessageFramer.frame(payload, compressed: compressed, into: &buffer)
    return Array(buffer.readableBytesView)
  }

  func feed(_ deframer: inout MessageDeframer, _ bytes: [UInt8]) throws -> [[UInt8]] {
    var messages: [[UInt8]] = []
    try bytes.withUnsafeBytes { raw in
      try deframer.process(raw) { messages.append($0.bytes) }
    }
    return messages
  }

  @Test func splitsMessagesAcrossArbitraryChunks() throws {
    let stream = framed([1, 2, 3]) + framed([]) + framed(Array(repeating: 9, count: 300))
    for chunkSize in [1, 2, 5, 7, 64, stream.count] {
      var deframer = MessageDeframer(maxMessageSize: 1024)
      var messages: [[UInt8]] = []
      var offset = 0
      while offset < stream.count {
        let chunk = Array(stream[offset..<min(offset + chunkSize, stream.count)])
        messages += try feed(&deframer, chunk)
        offset += chunkSize
      }
      #expect(messages == [[1, 2, 3], [], Array(repeating: 9, count: 300)])
      #expect(deframer.pendingByteCount == 0)
    }
  }

  @Test func refusesAnOversizedMessageAtItsPrefix() {
    var deframer = MessageDeframer(maxMessageSize: 10)
    #expect(throws: MessageDeframer.Failure.tooLarge(declared: 11)) {
      try feed(&deframer, [0, 0, 0, 0, 11])
    }
  }

  @Test func refusesAnOversizedMessageWhosePrefixArrivesInPieces() throws {
    var deframer = MessageDeframer(maxMessageSize: 10)
    #expect(try feed(&deframer, [0, 0x7F, 0xFF]).isEmpty)
    #expect(throws: MessageDeframer.Failure.tooLarge(declared: 0x7FFF_FFFF)) {
      try feed(&deframer, [0xFF, 0xFF])
    }
  }

  @Test func refusesAnUnknownFlag() {
    var deframer = MessageDeframer(maxMessageSize: 10)
    #expect(throws: MessageDeframer.Failure.invalidFlag(2)) {
      try feed(&deframer, [2, 0, 0, 0, 0])
    }
  }

  @Test func keepsATruncatedMessagePending() throws {
    var deframer = MessageDeframer(maxMessageSize: 100)
    #expect(try feed(&deframer, [0, 0, 0, 0, 10, 1, 2]).isEmpty)
    #expect(deframer.pendingByteCount == 7)
    #expect(framed([7], compressed: true) == [1, 0, 0, 0, 1, 7])
  }
}

@Suite struct OutboundMessagesTests {
  @Test func framesMessagesAcrossAnyReadSize() {
    let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 1000), [9]]
    var expected: [UInt8] = []
    for payload in payloads {
      var buffer = ByteBuffer()
      MessageFramer.frame(payload, compressed: false, into: &buffer)
      expected += Array(buffer.readableBytesView)
    }
    for readSize in [1, 3, 5, 6, 100, 4096] {
      var queue = OutboundMessages()
      for payload in payloads { queue.append(payload, compressed: false) }
      #expect(queue.pendingBytes == expected.count)
      #expect(Self.read(&queue, inChunksOf: readSize) == expected)
    }
  }

  @Test func keepsOrderWhenMessagesArriveWhileOthersAreRead() {
    // Appends between partial reads: the message being read, those behind it, and a queue
    // that empties and fills again.
    var queue = OutboundMessages()
    var expected: [UInt8] = []
    var out: [UInt8] = []
    for round in 0..<200 {
      let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: round % 13)
      queue.append(payload, compressed: round % 3 == 0)
      expected += [round % 3 == 0 ? 1 : 0, 0, 0, 0, UInt8(payload.count)] + payload
      out += Self.read(&queue, inChunksOf: 7, atMost: round % 4)
      #expect(queue.pendingBytes == expected.count - out.count)
    }
    out += Self.read(&queue, inChunksOf: 7)
    #expect(out == expected)
  }

  /// Reads `chunkSize` bytes at a time, `chunks` times or until the queue is empty.
  private static func read(
    _ queue: inout OutboundMessages, inChunksOf chunkSize: Int, atMost chunks: Int = .max
  ) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    var reads = 0
    while reads < chunks, !queue.isEmpty {
      reads += 1
      let count = chunk.withUnsafeMutableBytes { queue.read(into: $0) }
      guard count > 0 else {
        Issue.record("\(queue.pendingBytes) bytes pending and none read")
        break
      }
      out += chunk.prefix(count)
    }
    return out
  }

  @Test func marksCompressedMessages() {
    var queue = OutboundMessages()
    queue.append([0xAB], compressed: true)
    var chunk = [UInt8](repeating: 0, count: 16)
    let count = chunk.withUnsafeMutableBytes { queue.read(into: $0) }
    #expect(Array(chunk.prefix(count)) == [1, 0, 0, 0, 1, 0xAB])
  }
}

@Suite struct GzipTests {
  @Test func roundTrips() throws {
    let text = Array(String(repeating: "chat message ", count: 500).utf8)
    let compressed = Gzip.compress(text)
    #expect(compressed.count < text.count / 10)
    #expect(compressed.prefix(2) == [0x1F, 0x8B])
    #expect(try Gzip.decompress(compressed, limit: text.count) == text)
  }

  @Test func refusesOutputPastTheLimit() {
    let bomb = Gzip.compress([UInt8](repeating: 0, count: 1 << 20))
    #expect(throws: Gzip.Failure.tooLarge) { try Gzip.decompress(bomb, limit: 4096) }
  }

  @Test func refusesGarbage() {
    #expect(throws: Gzip.Failure.invalid) { try Gzip.decompress([1, 2, 3, 4], limit: 100) }
    let truncated = Array(Gzip.compress(Array("hello".utf8)).dropLast(4))
    #expect(throws: Gzip.Failure.invalid) { try Gzip.decompress(truncated, limit: 100) }
  }
}

/// Frames messages the way a gRPC peer does, for building test input.
enum MessageFramer {
  static func frame(_ message: [UInt8], compressed: Bool, into buffer: inout ByteBuffer) {
    buffer.writeInteger(UInt8(compressed ? 1 : 0))
    buffer.writeInteger(UInt32(message.count))
    buffer.writeBytes(message)
  }
}
