/// Every message and enum of the request by fully qualified name, with its Swift and C names.
struct TypeRegistry {
  struct Message {
    var descriptor: MessageDescriptor
    var swiftName: String
    var cStruct: String
    var cLower: String
  }

  struct Enumeration {
    var descriptor: EnumDescriptor
    var swiftName: String
    var cStruct: String
    /// The Swift case of the first value (proto3's default).
    var defaultCase: String
  }

  private(set) var messages: [String: Message] = [:]
  private(set) var enums: [String: Enumeration] = [:]

  init(files: [FileDescriptor]) {
    for file in files {
      let prefix = SwiftNaming.packagePrefix(file.package)
      for message in file.messages { register(message, swiftName: prefix + message.name) }
      for enumeration in file.enums { register(enumeration, swiftName: prefix + enumeration.name) }
    }
  }

  private mutating func register(_ message: MessageDescriptor, swiftName: String) {
    messages[message.fullName] = Message(
      descriptor: message, swiftName: swiftName, cStruct: CNaming.structName(message.fullName),
      cLower: CNaming.lowerName(message.fullName))
    for nested in message.messages {
      register(nested, swiftName: swiftName + "." + SwiftNaming.typeName(nested.name))
    }
    for nested in message.enums {
      register(nested, swiftName: swiftName + "." + SwiftNaming.typeName(nested.name))
    }
  }

  private mutating func register(_ enumeration: EnumDescriptor, swiftName: String) {
    let first = enumeration.values.first?.name ?? "UNSPECIFIED"
    enums[enumeration.fullName] = Enumeration(
      descriptor: enumeration, swiftName: swiftName,
      cStruct: CNaming.structName(enumeration.fullName),
      defaultCase: SwiftNaming.escaped(SwiftNaming.enumCase(first, enumName: enumeration.name)))
  }

  func message(_ typeName: String) -> Message {
    guard let message = messages[Self.strip(typeName)] else {
      fatalError("unknown message type \(typeName)")
    }
    return message
  }

  func enumeration(_ typeName: String) -> Enumeration {
    guard let enumeration = enums[Self.strip(typeName)] else {
      fatalError("unknown enum type \(typeName)")
    }
    return enumeration
  }

  /// Whether `target` can contain a `holder` through singular message fields: such a field
  /// needs a box (a struct cannot contain itself).
  func isRecursive(holder: String, target: String) -> Bool {
    var seen: Set<String> = []
    var stack = [Self.strip(target)]
    while let name = stack.popLast() {
      if name == holder { return true }
      guard seen.insert(name).inserted, let message = messages[name] else { continue }
      for field in message.descriptor.fields where field.kind == .message && !field.isRepeated {
        stack.append(Self.strip(field.typeName))
      }
    }
    return false
  }

  private static func strip(_ typeName: String) -> String {
    typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
  }
}
