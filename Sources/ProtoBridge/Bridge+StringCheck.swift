package import CProtobufC
import Glibc

extension Bridge {
  /// The name of a string field in `bytes` whose value holds a NUL byte, if any.
  ///
  /// protobuf-c keeps strings as NUL-terminated C strings, so such a value would silently
  /// lose everything after the NUL; decoding refuses it instead. Most messages hold no zero
  /// byte at all, and those skip the walk.
  package static func stringFieldHoldingNUL(
    _ bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>
  ) -> String? {
    guard let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil else { return nil }
    var reader = WireReader(bytes: bytes)
    while let key = reader.varint() {
      let number = UInt32(truncatingIfNeeded: key >> 3)
      switch key & 7 {
      case 0: guard reader.varint() != nil else { return nil }
      case 1: guard reader.skip(8) else { return nil }
      case 5: guard reader.skip(4) else { return nil }
      case 2:
        guard let length = reader.varint(), let payload = reader.take(Int(clamping: length)) else {
          return nil
        }
        guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else {
          continue
        }
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_STRING:
          if let start = payload.baseAddress, memchr(start, 0, payload.count) != nil {
            return String(cString: field.pointee.name)
          }
        case PROTOBUF_C_TYPE_MESSAGE:
          let nested = field.pointee.descriptor.assumingMemoryBound(
            to: ProtobufCMessageDescriptor.self)
          if let name = stringFieldHoldingNUL(payload, descriptor: nested) { return name }
        default:
          break
        }
      default:
        return nil  // Groups or garbage: unpacking refuses those by itself.
      }
    }
    return nil
  }
}

/// Reads protobuf wire primitives; every read fails (nil) past the end instead of trapping.
private struct WireReader {
  let bytes: UnsafeRawBufferPointer
  var offset = 0

  mutating func varint() -> UInt64? {
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

  mutating func skip(_ count: Int) -> Bool {
    guard bytes.count - offset >= count else { return false }
    offset += count
    return true
  }

  mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
    guard count >= 0, bytes.count - offset >= count else { return nil }
    defer { offset += count }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
  }
}
