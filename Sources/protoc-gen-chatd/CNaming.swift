/// protoc-c 1.4's C naming rules (from its generated headers), so generated Swift can name
/// the C structs, functions and fields.
///
/// - message `chat.v1.RoomEvent`: struct `Chat__V1__RoomEvent` (each dotted component
///   ToCamel: `_` dropped, the next letter upper-cased, the first letter upper-cased),
///   functions and descriptor `chat__v1__room_event__pack` / `__descriptor` (each
///   component CamelToLower: `_` inserted before an upper-case letter that follows a
///   non-upper-case one, then lower-cased; `HTTPThing_x2` -> `httpthing_x2`, `V2Foo` -> `v2_foo`).
/// - field `clientMsgId`: member `clientmsgid` (lower-cased; C/C++ keywords get a trailing `_`).
/// - oneof `myEvent`: case member `my_event_case` (CamelToLower + `_case`); its values equal
///   the member field numbers (0 = not set), which generated code uses instead of constant names.
/// - map field `labels`: entry struct for the nested `LabelsEntry` message, fields `key`, `value`.
enum CNaming {
  static func structName(_ fullName: String) -> String {
    fullName.split(separator: ".").map { toCamel(String($0)) }.joined(separator: "__")
  }

  static func lowerName(_ fullName: String) -> String {
    fullName.split(separator: ".").map { camelToLower(String($0)) }.joined(separator: "__")
  }

  static func fieldName(_ protoName: String) -> String {
    let lower = protoName.lowercased()
    return keywords.contains(lower) ? lower + "_" : lower
  }

  static func oneofCaseName(_ oneofName: String) -> String {
    camelToLower(oneofName) + "_case"
  }

  static func toCamel(_ name: String) -> String {
    var result = ""
    var nextIsUpper = true
    for char in name {
      if char == "_" {
        nextIsUpper = true
      } else if nextIsUpper {
        result += char.uppercased()
        nextIsUpper = false
      } else {
        result.append(char)
      }
    }
    return result
  }

  static func camelToLower(_ name: String) -> String {
    var result = ""
    var wasUpper = true
    for char in name {
      let isUpper = char.isASCII && char.isUppercase
      if isUpper {
        if !wasUpper { result += "_" }
        result += char.lowercased()
      } else {
        result.append(char)
      }
      wasUpper = isUpper
    }
    return result
  }

  /// protoc-c's keyword list (C and C++).
  static let keywords: Set<String> = [
    "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char",
    "class", "compl", "const", "const_cast", "continue", "default", "delete", "do", "double",
    "dynamic_cast", "else", "enum", "explicit", "extern", "false", "float", "for", "friend",
    "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "not", "not_eq",
    "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "return", "short", "signed", "sizeof", "static", "static_cast", "struct", "switch",
    "template", "this", "throw", "true", "try", "typedef", "typeid", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
  ]
}
