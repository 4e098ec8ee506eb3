/// Emits a message's conversions: wire bytes <-> protobuf-c struct <-> Swift value.
extension MessageEmitter {
  func emitBridging(_ message: MessageDescriptor, into writer: inout SourceWriter) {
    let entry = registry.messages[message.fullName]!
    let c = entry.cLower
    writer.block("extension \(entry.swiftName): CBridgedMessage") { writer in
      writer.block("\(visibility)init(wireBytes: [UInt8]) throws") { writer in
        writer.line("// protoc-c has pack/unpack functions for top-level messages only; the")
        writer.line("// descriptor, which __init stores, works for every message.")
        writer.line("var probe = \(entry.cStruct)()")
        writer.line("\(c)__init(&probe)")
        writer.line(
          "self = try Bridge.decode(wireBytes, descriptor: probe.base.descriptor, as: Self.self)")
      }
      writer.line()
      writer.block("\(visibility)func wireBytes() -> [UInt8]") { writer in
        writer.line("Arena.with { arena in Bridge.pack(cStruct(in: &arena)) }")
      }
      writer.line()
      emitDecode(message, entry: entry, into: &writer)
      writer.line()
      emitEncode(message, entry: entry, into: &writer)
    }
    for nested in message.messages where !nested.isMapEntry {
      writer.line()
      emitBridging(nested, into: &writer)
    }
  }

  private func emitDecode(
    _ message: MessageDescriptor, entry: TypeRegistry.Message, into writer: inout SourceWriter
  ) {
    writer.block("package init(bridging cStruct: UnsafeRawPointer)") { writer in
      let shapes = shapes(of: message)
      if !shapes.isEmpty {
        writer.line("let c = cStruct.assumingMemoryBound(to: \(entry.cStruct).self).pointee")
      }
      writer.line("self.init()")
      for shape in shapes { emitDecode(shape, into: &writer) }
      for oneof in oneofs(of: message) {
        writer.block("switch c.\(oneof.caseMember).rawValue") { writer in
          for member in oneof.members {
            let value = member.value.decodeNonOptional("c.\(member.cName)")
            writer.line(
              "case \(member.field.number): self.\(oneof.swiftProperty) = .\(member.swiftName)(\(value))"
            )
          }
          writer.line("default: break")
        }
      }
      writer.line("self.unknownFields = UnknownFields(bridging: cStruct)")
    }
  }

  private func emitDecode(_ shape: FieldShape, into writer: inout SourceWriter) {
    let c = "c.\(shape.cName)"
    let count = "c.n_\(shape.cName.filter { $0 != "`" })"
    let target = "self.\(shape.swiftName)"
    switch shape.arity {
    case .oneofMember:
      return
    case .singular:
      writer.line("\(target) = \(shape.value.decode(c))")
    case .optional(let caseMember):
      writer.block("if c.\(caseMember).rawValue == \(shape.field.number)") { writer in
        writer.line("\(target) = \(shape.value.decode(c))")
      }
    case .repeated:
      switch shape.value {
      case .scalar(.bool): writer.line("\(target) = Bridge.array(\(c), \(count)) { $0 != 0 }")
      case .scalar(.string): writer.line("\(target) = Bridge.strings(\(c), \(count))")
      case .scalar(.bytes): writer.line("\(target) = Bridge.binaries(\(c), \(count))")
      case .scalar: writer.line("\(target) = Bridge.array(\(c), \(count))")
      case .enumeration(let enumeration):
        writer.line(
          "\(target) = Bridge.array(\(c), \(count)) { \(enumeration.swiftName)(rawValue: Bridge.enumValue($0)) }"
        )
      case .message(let message):
        writer.line("\(target) = Bridge.messages(\(c), \(count), as: \(message.swiftName).self)")
      }
    case .map(let key, _):
      let value = shape.mapValue(registry: registry)!
      writer.line("// Later entries win, as protobuf requires for repeated keys.")
      writer.block(
        "for entry in UnsafeBufferPointer(start: \(c), count: \(c) == nil ? 0 : \(count))"
      ) {
        writer in
        writer.line("guard let entry = entry?.pointee else { continue }")
        writer.line(
          "\(target)[\(key.decode("entry.key"))] = \(value.decodeNonOptional("entry.value"))")
      }
    }
  }

  private func emitEncode(
    _ message: MessageDescriptor, entry: TypeRegistry.Message, into writer: inout SourceWriter
  ) {
    writer.block("package func cStruct(in arena: inout Arena) -> UnsafeMutableRawPointer") {
      writer in
      writer.line("let c = arena.allocate(\(entry.cStruct).self)")
      writer.line("\(entry.cLower)__init(c)")
      for shape in shapes(of: message) { emitEncode(shape, into: &writer) }
      for oneof in oneofs(of: message) {
        writer.block("switch self.\(oneof.swiftProperty)") { writer in
          for member in oneof.members {
            writer.line("case .\(member.swiftName)(let value)?:")
            writer.line("  c.pointee.\(oneof.caseMember) = .init(rawValue: \(member.field.number))")
            writer.line("  c.pointee.\(member.cName) = \(member.value.encode("value"))")
          }
          writer.line("case nil: break")
        }
      }
      writer.line("self.unknownFields.attach(to: c, arena: &arena)")
      writer.line("return UnsafeMutableRawPointer(c)")
    }
  }

  private func emitEncode(_ shape: FieldShape, into writer: inout SourceWriter) {
    let c = "c.pointee.\(shape.cName)"
    let count = "c.pointee.n_\(shape.cName.filter { $0 != "`" })"
    let source = "self.\(shape.swiftName)"
    switch shape.arity {
    case .oneofMember:
      return
    case .singular where shape.value.isMessage:
      writer.block("if let value = \(source)") { writer in
        writer.line("\(c) = \(shape.value.encode("value"))")
      }
    case .singular:
      if let test = shape.value.isDefaultTest(source) {
        writer.line("if \(test) { \(c) = \(shape.value.encode(source)) }")
      } else {
        writer.line("\(c) = \(shape.value.encode(source))")
      }
    case .optional(let caseMember):
      writer.block("if let value = \(source)") { writer in
        writer.line("c.pointee.\(caseMember) = .init(rawValue: \(shape.field.number))")
        writer.line("\(c) = \(shape.value.encode("value"))")
      }
    case .repeated:
      let array: String
      switch shape.value {
      case .scalar(.bool): array = "arena.bools(\(source))"
      case .scalar(.string): array = "arena.cStrings(\(source))"
      case .scalar(.bytes): array = "arena.binaries(\(source))"
      case .scalar: array = "arena.array(\(source))"
      case .enumeration(let enumeration):
        array = "arena.enums(\(source), as: \(enumeration.cStruct).self)"
      case .message(let message): array = "arena.messages(\(source), as: \(message.cStruct).self)"
      }
      writer.block("if !\(source).isEmpty") { writer in
        writer.line("\(count) = \(source).count")
        writer.line("\(c) = \(array)")
      }
    case .map(let key, let entry):
      let value = shape.mapValue(registry: registry)!
      let order =
        if case .scalar(.bool) = key { "{ !$0.key && $1.key }" } else { "{ $0.key < $1.key }" }
      writer.block("if !\(source).isEmpty") { writer in
        writer.line("// Sorted by key so that equal maps encode to equal bytes.")
        writer.line("let sorted = \(source).sorted(by: \(order))")
        writer.line(
          "let entries = arena.allocate(UnsafeMutablePointer<\(entry.cStruct)>?.self, count: sorted.count)"
        )
        writer.block("for (index, element) in sorted.enumerated()") { writer in
          writer.line("let entry = arena.allocate(\(entry.cStruct).self)")
          writer.line("\(entry.cLower)__init(entry)")
          writer.line("entry.pointee.key = \(key.encode("element.key"))")
          writer.line("entry.pointee.value = \(value.encode("element.value"))")
          writer.line("(entries + index).initialize(to: entry)")
        }
        writer.line("\(count) = sorted.count")
        writer.line("\(c) = entries")
      }
    }
  }
}
