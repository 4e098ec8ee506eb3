package import CProtobufC

/// Copies out of unpacked protobuf-c structs into Swift values (used by generated code).
package enum Bridge {
  package static func string(_ cString: UnsafePointer<CChar>?) -> String {
    guard let cString, cString.pointee != 0 else { return "" }
    return String(cString: cString)
  }

  package static func bytes(_ binary: ProtobufCBinaryData) -> [UInt8] {
    guard binary.len > 0, let data = binary.data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: binary.len))
  }

  /// The `count` scalars at `elements` (trivial types only).
  package static func array<T: BitwiseCopyable>(_ elements: UnsafePointer<T>?, _ count: Int) -> [T]
  {
    guard count > 0, let elements else { return [] }
    return Array(UnsafeBufferPointer(start: elements, count: count))
  }

  /// The `count` elements at `elements`, each converted.
  package static func array<T, Element>(
    _ elements: UnsafePointer<T>?, _ count: Int, _ convert: (T) -> Element
  ) -> [Element] {
    guard count > 0, let elements else { return [] }
    return UnsafeBufferPointer(start: elements, count: count).map(convert)
  }

  package static func strings(
    _ elements: UnsafePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int
  )
    -> [String]
  {
    array(elements, count) { string($0) }
  }

  package static func binaries(_ elements: UnsafePointer<ProtobufCBinaryData>?, _ count: Int)
    -> [[UInt8]]
  {
    array(elements, count) { bytes($0) }
  }

  package static func message<Message: CBridgedMessage, CStruct>(
    _ cStruct: UnsafePointer<CStruct>?, as type: Message.Type = Message.self
  ) -> Message? {
    cStruct.map { Message(bridging: UnsafeRawPointer($0)) }
  }

  package static func messages<Message: CBridgedMessage, CStruct>(
    _ elements: UnsafePointer<UnsafeMutablePointer<CStruct>?>?, _ count: Int,
    as type: Message.Type = Message.self
  ) -> [Message] {
    array(elements, count) { element in
      element.map { Message(bridging: UnsafeRawPointer($0)) } ?? Message()
    }
  }

  /// A protobuf-c enum field's value as an Int32 (C enums import with an unsigned raw type
  /// when no value is negative).
  package static func enumValue<CEnum: RawRepresentable>(_ value: CEnum) -> Int32
  where CEnum.RawValue: FixedWidthInteger {
    Int32(truncatingIfNeeded: value.rawValue)
  }

  package static func cEnum<CEnum: RawRepresentable>(
    _ value: Int32, as type: CEnum.Type = CEnum.self
  )
    -> CEnum
  where CEnum.RawValue: FixedWidthInteger {
    CEnum(rawValue: CEnum.RawValue(truncatingIfNeeded: value))!
  }
}

extension Bridge {
  /// Unpacks `bytes` as the message `descriptor` describes and copies it into a `Message`;
  /// the C struct is freed on every path.
  package static func decode<Message: CBridgedMessage>(
    _ bytes: [UInt8], descriptor: UnsafePointer<ProtobufCMessageDescriptor>, as type: Message.Type
  ) throws -> Message {
    let messageName = { String(cString: descriptor.pointee.name) }
    if let (field, problem) = bytes.withUnsafeBytes({
      malformedStringField($0, descriptor: descriptor)
    }) {
      throw WireDecodingError(
        messageName: messageName(), byteCount: bytes.count,
        reason: "string field \(field) \(problem)")
    }
    let unpacked = bytes.withUnsafeBufferPointer {
      protobuf_c_message_unpack(descriptor, nil, $0.count, $0.baseAddress)
    }
    guard let unpacked else {
      throw WireDecodingError(messageName: messageName(), byteCount: bytes.count)
    }
    defer { protobuf_c_message_free_unpacked(unpacked, nil) }
    return Message(bridging: UnsafeRawPointer(unpacked))
  }

  /// Packs the C struct of a message built in an arena (its descriptor set by `__init`).
  package static func pack(_ cStruct: UnsafeMutableRawPointer) -> [UInt8] {
    let message = cStruct.assumingMemoryBound(to: ProtobufCMessage.self)
    let size = protobuf_c_message_get_packed_size(message)
    return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = protobuf_c_message_pack(message, buffer.baseAddress)
    }
  }
}
