/// How one proto field looks in Swift and in C, and the expressions converting between them.
struct FieldShape {
  /// The type of one value (an element, for repeated fields and maps).
  enum Value {
    case scalar(FieldDescriptor.Kind)
    case enumeration(TypeRegistry.Enumeration)
    case message(TypeRegistry.Message)
  }

  enum Arity {
    /// A plain proto3 field (implicit presence); messages are Swift optionals.
    case singular
    /// A proto3 `optional` field: a synthetic oneof in C, an optional in Swift.
    case optional(caseMember: String)
    case repeated
    case map(key: Value, entry: TypeRegistry.Message)
    /// A member of a real oneof.
    case oneofMember
  }

  let field: FieldDescriptor
  let value: Value
  let arity: Arity
  /// The Swift property (or oneof case) name, escaped.
  let swiftName: String
  /// The C struct member name.
  let cName: String

  init(_ field: FieldDescriptor, in message: MessageDescriptor, registry: TypeRegistry) {
    self.field = field
    swiftName = SwiftNaming.escaped(SwiftNaming.lowerCamel(field.name))
    cName = SwiftNaming.escaped(CNaming.fieldName(field.name))
    value = Self.value(field, registry: registry)
    if field.isRepeated, field.kind == .message,
      registry.message(field.typeName).descriptor.isMapEntry
    {
      let entry = registry.message(field.typeName)
      let keyField = entry.descriptor.fields.first { $0.number == 1 }!
      arity = .map(key: Self.value(keyField, registry: registry), entry: entry)
    } else if field.isRepeated {
      arity = .repeated
    } else if field.isProto3Optional, let index = field.oneofIndex {
      arity = .optional(caseMember: CNaming.oneofCaseName(message.oneofs[index]))
    } else if field.oneofIndex != nil {
      arity = .oneofMember
    } else {
      arity = .singular
    }
  }

  static func value(_ field: FieldDescriptor, registry: TypeRegistry) -> Value {
    switch field.kind {
    case .enumeration: .enumeration(registry.enumeration(field.typeName))
    case .message, .group: .message(registry.message(field.typeName))
    default: .scalar(field.kind)
    }
  }

  /// The map entry's value field, for maps.
  func mapValue(registry: TypeRegistry) -> Value? {
    guard case .map(_, let entry) = arity else { return nil }
    return Self.value(entry.descriptor.fields.first { $0.number == 2 }!, registry: registry)
  }
}

extension FieldShape.Value {
  var swiftType: String {
    switch self {
    case .scalar(let kind):
      switch kind {
      case .int32, .sint32, .sfixed32: "Int32"
      case .int64, .sint64, .sfixed64: "Int64"
      case .uint32, .fixed32: "UInt32"
      case .uint64, .fixed64: "UInt64"
      case .float: "Float"
      case .double: "Double"
      case .bool: "Bool"
      case .string: "String"
      case .bytes: "[UInt8]"
      case .enumeration, .message, .group: fatalError("not a scalar")
      }
    case .enumeration(let enumeration): enumeration.swiftName
    case .message(let message): message.swiftName
    }
  }

  /// The proto3 default as a Swift literal (messages have none: they are optional).
  var defaultValue: String {
    switch self {
    case .scalar(.bool): "false"
    case .scalar(.string): "\"\""
    case .scalar(.bytes): "[]"
    case .scalar: "0"
    case .enumeration(let enumeration): "." + enumeration.defaultCase
    case .message(let message): "\(message.swiftName)()"
    }
  }

  var isMessage: Bool {
    if case .message = self { return true }
    return false
  }

  /// Swift value from the C member `c` (for messages: an optional).
  func decode(_ c: String) -> String {
    switch self {
    case .scalar(.bool): "\(c) != 0"
    case .scalar(.string): "Bridge.string(\(c))"
    case .scalar(.bytes): "Bridge.bytes(\(c))"
    case .scalar: c
    case .enumeration(let enumeration): "\(enumeration.swiftName)(rawValue: Bridge.enumValue(\(c)))"
    case .message(let message): "Bridge.message(\(c), as: \(message.swiftName).self)"
    }
  }

  /// Swift value from the C member `c`, messages defaulted when absent.
  func decodeNonOptional(_ c: String) -> String {
    isMessage ? "\(decode(c)) ?? \(defaultValue)" : decode(c)
  }

  /// The C value for the Swift value `swift`, built in `arena`.
  func encode(_ swift: String) -> String {
    switch self {
    case .scalar(.bool): "\(swift) ? 1 : 0"
    case .scalar(.string): "arena.cString(\(swift))"
    case .scalar(.bytes): "arena.binary(\(swift))"
    case .scalar: swift
    case .enumeration(let enumeration):
      "Bridge.cEnum(\(swift).rawValue, as: \(enumeration.cStruct).self)"
    case .message(let message):
      "\(swift).cStruct(in: &arena).assumingMemoryBound(to: \(message.cStruct).self)"
    }
  }

  /// Whether a value equals its proto3 default, so that encoding may leave the C default.
  func isDefaultTest(_ swift: String) -> String? {
    switch self {
    case .scalar(.string), .scalar(.bytes): "!\(swift).isEmpty"
    default: nil
    }
  }
}
