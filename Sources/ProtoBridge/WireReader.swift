/// Reads protobuf wire-format primitives from the front of a buffer; every read fails (nil or
/// false) past the end instead of trapping. The one reader of raw wire bytes in chatd: the
/// string check before protobuf-c unpacks, unknown fields handed back to protobuf-c, and the
/// load generator's event stamps (Benchmarks/Support).
package struct WireReader {
  package let bytes: UnsafeRawBufferPointer
  package private(set) var offset = 0

  package init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  package var isAtEnd: Bool { offset >= bytes.count }

  package mutating func varint() -> UInt64? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.count, shift < 64 {
      let byte = bytes[offset]
      offset += 1
      value |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return value }
      shift += 7
    }
    return nil
  }

  package mutating func skip(_ count: Int) -> Bool {
    guard count >= 0, bytes.count - offset >= count else { return false }
    offset += count
    return true
  }

  package mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
    guard count >= 0, bytes.count - offset >= count else { return nil }
    defer { offset += count }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
  }

  /// A length-delimited field's payload: its length, then that many bytes.
  package mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
    guard let length = varint() else { return nil }
    return take(Int(clamping: length))
  }
}
