internal import CProtobufC

extension UnknownFields {
  /// Reads the unknown fields protobuf-c kept in the unpacked message at `cMessage`.
  package init(bridging cMessage: UnsafeRawPointer) {
    let message = cMessage.assumingMemoryBound(to: ProtobufCMessage.self).pointee
    self.init()
    guard message.n_unknown_fields > 0, let fields = message.unknown_fields else { return }
    for field in UnsafeBufferPointer(start: fields, count: Int(message.n_unknown_fields)) {
      var key = UInt64(field.tag) << 3 | UInt64(field.wire_type.rawValue)
      while key >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: key) | 0x80)
        key >>= 7
      }
      bytes.append(UInt8(key))
      if field.len > 0, let data = field.data {
        bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: field.len))
      }
    }
  }

  /// Hands the unknown fields to the C struct at `cMessage` so that pack writes them out.
  package func attach(to cMessage: UnsafeMutableRawPointer, arena: inout Arena) {
    guard !bytes.isEmpty else { return }
    let fields = Self.split(bytes)
    guard !fields.isEmpty else { return }
    let copy = arena.allocate(UInt8.self, count: bytes.count)
    bytes.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: $0.count) }
    let cFields = arena.allocate(ProtobufCMessageUnknownField.self, count: fields.count)
    for (index, field) in fields.enumerated() {
      (cFields + index).initialize(
        to: ProtobufCMessageUnknownField(
          tag: field.tag, wire_type: ProtobufCWireType(rawValue: field.wireType),
          len: field.payload.count, data: copy + field.payload.lowerBound))
    }
    let message = cMessage.assumingMemoryBound(to: ProtobufCMessage.self)
    message.pointee.n_unknown_fields = UInt32(fields.count)
    message.pointee.unknown_fields = cFields
  }

  /// The fields in `bytes`; stops at the first malformed one (only hand-built values can
  /// hold those, decoded ones are well formed).
  private static func split(_ bytes: [UInt8]) -> [(
    tag: UInt32, wireType: UInt32, payload: Range<Int>
  )] {
    var fields: [(tag: UInt32, wireType: UInt32, payload: Range<Int>)] = []
    bytes.withUnsafeBytes { raw in
      var reader = WireReader(bytes: raw)
      while !reader.isAtEnd {
        guard let key = reader.varint(), key >> 3 > 0, key >> 3 <= 0x1FFF_FFFF else { return }
        let wireType = UInt32(key & 7)
        let start = reader.offset
        switch wireType {
        case 0: guard reader.varint() != nil else { return }
        case 1: guard reader.skip(8) else { return }
        case 2: guard reader.lengthDelimited() != nil else { return }
        case 5: guard reader.skip(4) else { return }
        default: return
        }
        fields.append((UInt32(key >> 3), wireType, start..<reader.offset))
      }
    }
    return fields
  }
}
