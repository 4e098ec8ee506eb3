/// Emits a proto enum as a Swift enum with `unrecognized(Int32)` for values it does not know.
struct EnumEmitter {
  let registry: TypeRegistry
  let comments: [[Int32]: String]
  let visibility: String

  func emit(_ enumeration: EnumDescriptor, into writer: inout SourceWriter) {
    let entry = registry.enums[enumeration.fullName]!
    let name = entry.swiftName.split(separator: ".").last.map(String.init)!
    // Aliases (allow_alias) share a number: the first name gets the case.
    var seen: Set<Int32> = []
    var cases: [(name: String, number: Int32, path: [Int32])] = []
    var aliases: [(name: String, target: String, path: [Int32])] = []
    for value in enumeration.values {
      let caseName = SwiftNaming.escaped(
        SwiftNaming.enumCase(value.name, enumName: enumeration.name))
      if seen.insert(value.number).inserted {
        cases.append((caseName, value.number, value.path))
      } else if let target = cases.first(where: { $0.number == value.number }) {
        aliases.append((caseName, target.name, value.path))
      }
    }

    writer.docComment(comments[enumeration.path])
    writer.block("\(visibility)enum \(name): ProtoEnum") { writer in
      for enumCase in cases {
        writer.docComment(comments[enumCase.path])
        writer.line("case \(enumCase.name)")
      }
      writer.line(
        "/// A value this version of the enum does not know; kept so that it round-trips.")
      writer.line("case unrecognized(Int32)")
      for alias in aliases {
        writer.line()
        writer.docComment(comments[alias.path])
        writer.line("\(visibility)static let \(alias.name) = \(name).\(alias.target)")
      }
      writer.line()
      writer.line("\(visibility)init() { self = .\(entry.defaultCase) }")
      writer.line()
      writer.block("\(visibility)init(rawValue: Int32)") { writer in
        writer.block("switch rawValue") { writer in
          for enumCase in cases { writer.line("case \(enumCase.number): self = .\(enumCase.name)") }
          writer.line("default: self = .unrecognized(rawValue)")
        }
      }
      writer.line()
      writer.block("\(visibility)var rawValue: Int32") { writer in
        writer.block("switch self") { writer in
          for enumCase in cases { writer.line("case .\(enumCase.name): \(enumCase.number)") }
          writer.line("case .unrecognized(let value): value")
        }
      }
      writer.line()
      writer.line(
        "\(visibility)static let allCases: [\(name)] = ["
          + cases.map { ".\($0.name)" }.joined(separator: ", ") + "]")
    }
  }
}
