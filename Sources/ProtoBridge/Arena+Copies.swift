package import CProtobufC

/// Copies of Swift values into arena memory, in the shapes protobuf-c structs point to.
extension Arena {
  /// A NUL-terminated UTF-8 copy of `string`.
  ///
  /// - Important: a string with an embedded NUL is cut there (C strings cannot carry it).
  package mutating func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
    var string = string
    return string.withUTF8 { utf8 in
      let target = allocate(CChar.self, count: utf8.count + 1)
      if let base = utf8.baseAddress {
        UnsafeMutableRawPointer(target).copyMemory(from: base, byteCount: utf8.count)
      }
      target[utf8.count] = 0
      return target
    }
  }

  package mutating func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
    guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
    let target = allocate(UInt8.self, count: bytes.count)
    bytes.withUnsafeBufferPointer { target.initialize(from: $0.baseAddress!, count: $0.count) }
    return ProtobufCBinaryData(len: bytes.count, data: target)
  }

  /// A C array holding `values` (trivial scalar types only).
  package mutating func array<T: BitwiseCopyable>(_ values: [T]) -> UnsafeMutablePointer<T>? {
    guard !values.isEmpty else { return nil }
    let target = allocate(T.self, count: values.count)
    values.withUnsafeBufferPointer { target.initialize(from: $0.baseAddress!, count: $0.count) }
    return target
  }

  /// A C array of `values` converted one by one (bools, enums, strings, bytes).
  package mutating func array<Element, T>(
    _ values: [Element], _ convert: (Element, inout Arena) -> T
  ) -> UnsafeMutablePointer<T>? {
    guard !values.isEmpty else { return nil }
    let target = allocate(T.self, count: values.count)
    for (index, value) in values.enumerated() {
      (target + index).initialize(to: convert(value, &self))
    }
    return target
  }

  /// A C array of pointers to the C structs of `messages`.
  package mutating func messages<Message: CBridgedMessage, CStruct>(
    _ messages: [Message], as type: CStruct.Type
  ) -> UnsafeMutablePointer<UnsafeMutablePointer<CStruct>?>? {
    array(messages) { message, arena in
      message.cStruct(in: &arena).assumingMemoryBound(to: CStruct.self)
    }
  }

  package mutating func cStrings(_ strings: [String]) -> UnsafeMutablePointer<
    UnsafeMutablePointer<CChar>?
  >? {
    array(strings) { string, arena in arena.cString(string) }
  }

  package mutating func binaries(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData>?
  {
    array(values) { bytes, arena in arena.binary(bytes) }
  }
}

extension Arena {
  /// A C array of protobuf-c booleans (C `int`).
  package mutating func bools(_ values: [Bool]) -> UnsafeMutablePointer<protobuf_c_boolean>? {
    array(values) { value, _ in value ? 1 : 0 }
  }

  /// A C array of protobuf-c enum values of type `CEnum`.
  package mutating func enums<Enum: ProtoEnum, CEnum: RawRepresentable>(
    _ values: [Enum], as type: CEnum.Type
  ) -> UnsafeMutablePointer<CEnum>? where CEnum.RawValue: FixedWidthInteger {
    array(values) { value, _ in Bridge.cEnum(value.rawValue, as: CEnum.self) }
  }
}
