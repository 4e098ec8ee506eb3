/// The parts of protobuf descriptors the generator uses, copied out of protobuf-c structs.

struct FileDescriptor {
  var name: String
  var package: String
  var syntax: String
  var dependencies: [String]
  var messages: [MessageDescriptor]
  var enums: [EnumDescriptor]
  var services: [ServiceDescriptor]
  /// Leading comments by source location path (`[4, 0, 2, 1]` = message 0, field 1).
  var comments: [[Int32]: String]
  /// The FileDescriptorProto re-packed by protobuf-c (keeps source info and unknown fields).
  var serialized: [UInt8]
}

struct MessageDescriptor {
  var name: String
  var fullName: String
  var path: [Int32]
  var fields: [FieldDescriptor]
  /// Oneof names in declaration order, synthetic proto3-optional ones included.
  var oneofs: [String]
  var messages: [MessageDescriptor]
  var enums: [EnumDescriptor]
  var isMapEntry: Bool
}

struct FieldDescriptor {
  enum Label: Int32 { case optional = 1, required = 2, repeated = 3 }
  enum Kind: Int32 {
    case double = 1, float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message,
      bytes, uint32, enumeration, sfixed32, sfixed64, sint32, sint64
  }

  var name: String
  var number: Int32
  var label: Label
  var kind: Kind
  /// Fully qualified type name with a leading dot, for messages and enums.
  var typeName: String
  var oneofIndex: Int?
  var isProto3Optional: Bool
  var path: [Int32]

  var isRepeated: Bool { label == .repeated }
}

struct EnumDescriptor {
  var name: String
  var fullName: String
  var path: [Int32]
  var values: [(name: String, number: Int32, path: [Int32])]
}

struct ServiceDescriptor {
  var name: String
  var fullName: String
  var path: [Int32]
  var methods: [MethodDescriptor]
}

struct MethodDescriptor {
  var name: String
  var inputType: String
  var outputType: String
  var clientStreaming: Bool
  var serverStreaming: Bool
  var path: [Int32]
}
