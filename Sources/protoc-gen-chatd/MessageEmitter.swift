/// Emits a message as a Swift struct: properties, nested oneof enums, enums and messages.
struct MessageEmitter {
  let registry: TypeRegistry
  let comments: [[Int32]: String]
  let visibility: String

  /// A real (non-synthetic) oneof and its members.
  struct Oneof {
    var name: String
    var swiftProperty: String
    var swiftType: String
    var caseMember: String
    var members: [FieldShape]
    /// Whether a member can contain the message itself: the enum must be `indirect`.
    var isIndirect: Bool
  }

  func shapes(of message: MessageDescriptor) -> [FieldShape] {
    message.fields.map { FieldShape($0, in: message, registry: registry) }
  }

  func oneofs(of message: MessageDescriptor) -> [Oneof] {
    let shapes = shapes(of: message)
    let nestedNames = Set(message.messages.map(\.name) + message.enums.map(\.name))
    return message.oneofs.enumerated().compactMap { index, name in
      let members = shapes.filter {
        $0.field.oneofIndex == index && !$0.field.isProto3Optional
      }
      guard !members.isEmpty else { return nil }
      let upper = SwiftNaming.upperCamel(name)
      return Oneof(
        name: name,
        swiftProperty: SwiftNaming.escaped(SwiftNaming.lowerCamel(name)),
        swiftType: nestedNames.contains(upper) ? "OneOf_" + upper : SwiftNaming.typeName(upper),
        caseMember: CNaming.oneofCaseName(name),
        members: members,
        isIndirect: members.contains { isBoxed($0, in: message) })
    }
  }

  /// Singular message fields through which the message could contain itself.
  func isBoxed(_ shape: FieldShape, in message: MessageDescriptor) -> Bool {
    guard case .message(let target) = shape.value else { return false }
    switch shape.arity {
    case .singular, .optional, .oneofMember:
      return registry.isRecursive(holder: message.fullName, target: target.descriptor.fullName)
    case .repeated, .map: return false
    }
  }

  func emit(_ message: MessageDescriptor, into writer: inout SourceWriter) {
    let entry = registry.messages[message.fullName]!
    let name = entry.swiftName.split(separator: ".").last.map(String.init)!
    writer.docComment(comments[message.path])
    writer.block("\(visibility)struct \(name): ProtoMessage") { writer in
      for shape in shapes(of: message) { emitProperty(shape, in: message, into: &writer) }
      for oneof in oneofs(of: message) {
        writer.docComment(
          comments[message.path + [8, Int32(message.oneofs.firstIndex(of: oneof.name)!)]])
        writer.line("\(visibility)var \(oneof.swiftProperty): \(oneof.swiftType)? = nil")
      }
      writer.line("\(visibility)var unknownFields = UnknownFields()")
      writer.line()
      writer.line("\(visibility)init() {}")
      for oneof in oneofs(of: message) {
        writer.line()
        emitOneofEnum(oneof, into: &writer)
      }
      let enumEmitter = EnumEmitter(registry: registry, comments: comments, visibility: visibility)
      for nested in message.enums {
        writer.line()
        enumEmitter.emit(nested, into: &writer)
      }
      for nested in message.messages where !nested.isMapEntry {
        writer.line()
        emit(nested, into: &writer)
      }
    }
  }

  private func emitProperty(
    _ shape: FieldShape, in message: MessageDescriptor, into writer: inout SourceWriter
  ) {
    let name = shape.swiftName
    let type = shape.value.swiftType
    switch shape.arity {
    case .oneofMember:
      return
    case .repeated:
      writer.docComment(comments[shape.field.path])
      writer.line("\(visibility)var \(name): [\(type)] = []")
    case .map(let key, _):
      let valueType = shape.mapValue(registry: registry)!.swiftType
      writer.docComment(comments[shape.field.path])
      writer.line("\(visibility)var \(name): [\(key.swiftType): \(valueType)] = [:]")
    case .singular where !shape.value.isMessage:
      writer.docComment(comments[shape.field.path])
      writer.line("\(visibility)var \(name): \(type) = \(shape.value.defaultValue)")
    case .singular, .optional:
      writer.docComment(comments[shape.field.path])
      if isBoxed(shape, in: message) {
        let storage = "_" + name.filter { $0 != "`" }
        writer.block("\(visibility)var \(name): \(type)?") { writer in
          writer.line("get { \(storage)?.value }")
          writer.line("set { \(storage) = newValue.map { Box($0) } }")
        }
        writer.line("private var \(storage): Box<\(type)>? = nil")
      } else {
        writer.line("\(visibility)var \(name): \(type)? = nil")
      }
    }
  }

  private func emitOneofEnum(_ oneof: Oneof, into writer: inout SourceWriter) {
    let indirect = oneof.isIndirect ? "indirect " : ""
    writer.block("\(visibility)\(indirect)enum \(oneof.swiftType): Sendable, Hashable") { writer in
      for member in oneof.members {
        writer.docComment(comments[member.field.path])
        writer.line("case \(member.swiftName)(\(member.value.swiftType))")
      }
    }
  }
}
