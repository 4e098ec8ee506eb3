/// Swift names of generated declarations, in SwiftProtobuf's style.
///
/// - types: package components UpperCamel (`my_pkg` -> `MyPkg`) joined with `_`, then the
///   message name: `chat.v1.RoomEvent` -> `Chat_V1_RoomEvent`; nested types nest.
/// - fields, oneof cases, methods: lowerCamelCase (`client_msg_id` -> `clientMsgId`).
/// - enum cases: the enum's name prefix dropped (`ROOM_KIND_DIRECT` -> `direct`).
/// - Swift keywords are escaped with backticks.
enum SwiftNaming {
  static func packagePrefix(_ package: String) -> String {
    guard !package.isEmpty else { return "" }
    return package.split(separator: ".").map { upperCamel(String($0)) }.joined(separator: "_")
      + "_"
  }

  /// `room_kind` / `roomKind` -> `RoomKind`.
  static func upperCamel(_ name: String) -> String {
    let lower = lowerCamel(name)
    return lower.prefix(1).uppercased() + lower.dropFirst()
  }

  /// `client_msg_id` -> `clientMsgId`, `SendMessage` -> `sendMessage`.
  static func lowerCamel(_ name: String) -> String {
    var result = ""
    var upperNext = false
    for char in name {
      if char == "_" {
        upperNext = !result.isEmpty
      } else if upperNext {
        result += char.uppercased()
        upperNext = false
      } else {
        result.append(char)
      }
    }
    guard let first = result.first else { return "_" }
    return first.lowercased() + result.dropFirst()
  }

  /// `ROOM_KIND_DIRECT` in enum `RoomKind` -> `direct`.
  static func enumCase(_ valueName: String, enumName: String) -> String {
    let prefix = CNaming.camelToLower(enumName).uppercased().replacingUnderscores()
    var name = valueName
    let squashed = valueName.uppercased().replacingUnderscores()
    if squashed.hasPrefix(prefix), squashed.count > prefix.count {
      // Drop as many characters of valueName as the prefix has, skipping underscores.
      var remaining = prefix.count
      var index = valueName.startIndex
      while remaining > 0, index < valueName.endIndex {
        if valueName[index] != "_" { remaining -= 1 }
        index = valueName.index(after: index)
      }
      let rest = valueName[index...].drop(while: { $0 == "_" })
      if let first = rest.first, !first.isNumber { name = String(rest) }
    }
    return lowerCamel(name.lowercased())
  }

  static func escaped(_ identifier: String) -> String {
    keywords.contains(identifier) ? "`\(identifier)`" : identifier
  }

  /// Type names that would clash with Swift's own meaning inside a type.
  static func typeName(_ name: String) -> String {
    ["Type", "Protocol", "Self", "Any", "Sendable"].contains(name) ? name + "Message" : name
  }

  static let keywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
    "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough",
    "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "as",
    "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type", "package",
    "consume", "copy", "borrowing", "consuming", "some", "any", "await", "async",
  ]
}

extension String {
  fileprivate func replacingUnderscores() -> String {
    String(filter { $0 != "_" })
  }
}
