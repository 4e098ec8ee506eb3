package import CProtobufC
import Glibc

extension Bridge {
  /// A string field in `bytes` whose value protobuf-c would not keep as sent, if any: its
  /// name and what is wrong with it.
  ///
  /// protobuf-c keeps strings as NUL-terminated C strings and does not check their UTF-8, so
  /// a value holding a NUL would silently lose everything after it, and invalid UTF-8 would
  /// be repaired into U+FFFD on the way to Swift (stored altered, not as sent). Proto3
  /// requires valid UTF-8 in strings; decoding refuses both instead. Messages that are
  /// ASCII without a zero byte (most of them) skip the walk.
  package static func malformedStringField(
    _ bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>
  ) -> (field: String, problem: String)? {
    guard bytes.contains(where: { $0 == 0 || $0 >= 0x80 }) else { return nil }
    var reader = WireReader(bytes: bytes)
    while let key = reader.varint() {
      let number = UInt32(truncatingIfNeeded: key >> 3)
      switch key & 7 {
      case 0: guard reader.varint() != nil else { return nil }
      case 1: guard reader.skip(8) else { return nil }
      case 5: guard reader.skip(4) else { return nil }
      case 2:
        guard let payload = reader.lengthDelimited() else { return nil }
        guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else {
          continue
        }
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_STRING:
          if let start = payload.baseAddress, memchr(start, 0, payload.count) != nil {
            return (String(cString: field.pointee.name), "holds a NUL character")
          }
          if !isValidUTF8(payload) {
            return (String(cString: field.pointee.name), "is not valid UTF-8")
          }
        case PROTOBUF_C_TYPE_MESSAGE:
          let nested = field.pointee.descriptor.assumingMemoryBound(
            to: ProtobufCMessageDescriptor.self)
          if let found = malformedStringField(payload, descriptor: nested) { return found }
        default:
          break
        }
      default:
        return nil  // Groups or garbage: unpacking refuses those by itself.
      }
    }
    return nil
  }

  /// The standard library's decoder refuses overlong forms, surrogates and truncated
  /// sequences, as the UTF-8 definition (RFC 3629) does.
  private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard bytes.contains(where: { $0 >= 0x80 }) else { return true }
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue: continue
      case .emptyInput: return true
      case .error: return false
      }
    }
  }
}
