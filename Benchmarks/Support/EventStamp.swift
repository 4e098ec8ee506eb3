import ProtoBridge

/// What the load generator needs of a `bench.v1.Event`: its seq, and the send time a measured
/// message carries in its body ("m <nanoseconds>", BenchLoad's `Body`). Read straight from
/// the wire bytes (`WireReader`): decoding every event through protobuf-c into Swift strings
/// cost the load generator about a sixth of its time per delivery, on the cores the server
/// under test shares (docs/benchmarks.md, "session 10"). The scan still rejects what is not
/// a well-formed message.
package struct EventStamp: Equatable {
  package var seq: UInt64
  /// Nil for a warm-up or anything else that is not a measured message.
  package var sentAt: UInt64?

  private static let seqField: UInt64 = 1
  private static let bodyField: UInt64 = 3

  package init(seq: UInt64, sentAt: UInt64?) {
    self.seq = seq
    self.sentAt = sentAt
  }

  /// Nil when `bytes` is not a well-formed protobuf message.
  package init?(_ bytes: [UInt8]) {
    guard let stamp = bytes.withUnsafeBytes(Self.read) else { return nil }
    self = stamp
  }

  private static func read(_ bytes: UnsafeRawBufferPointer) -> EventStamp? {
    var stamp = EventStamp(seq: 0, sentAt: nil)
    var reader = WireReader(bytes: bytes)
    while !reader.isAtEnd {
      guard let key = reader.varint() else { return nil }
      switch (key >> 3, key & 7) {
      case (seqField, 0):
        guard let value = reader.varint() else { return nil }
        stamp.seq = value
      case (bodyField, 2):
        guard let body = reader.lengthDelimited() else { return nil }
        stamp.sentAt = sentAt(body)
      case (_, 0):
        guard reader.varint() != nil else { return nil }
      case (_, 1):
        guard reader.skip(8) else { return nil }
      case (_, 2):
        guard reader.lengthDelimited() != nil else { return nil }
      case (_, 5):
        guard reader.skip(4) else { return nil }
      default:
        return nil
      }
    }
    return stamp
  }

  /// The nanoseconds of a body "m <nanos>" (`Body.measured`), nil for any other body.
  static func sentAt(_ body: UnsafeRawBufferPointer) -> UInt64? {
    guard body.count > 2, body[0] == UInt8(ascii: "m"), body[1] == UInt8(ascii: " ") else {
      return nil
    }
    var value: UInt64 = 0
    for byte in body.dropFirst(2) {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
      let (sum, carry) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
      guard !overflow, !carry else { return nil }
      value = sum
    }
    return value
  }
}
