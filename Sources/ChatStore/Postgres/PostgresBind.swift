/// One bound parameter as sent to PostgreSQL: text format bytes, binary bytes, or NULL.
public enum PostgresBind: Sendable, Hashable {
  case null
  /// Text format. PostgreSQL parses it for the parameter's type; libpq sends it as a C string,
  /// so it must not contain NUL (encoders refuse such values before they get here).
  case text([UInt8])
  /// Binary format (used for bytea).
  case binary([UInt8])
}

/// A Swift value that can be bound as a query parameter.
public protocol PostgresEncodable: Sendable {
  var postgresBind: PostgresBind { get }
}

extension String: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(utf8)) }
}

extension Substring: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(utf8)) }
}

extension Int: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(String(self).utf8)) }
}

extension Int32: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(String(self).utf8)) }
}

extension Int64: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(String(self).utf8)) }
}

extension UInt64: PostgresEncodable {
  /// Sequences are uint64 in the API and bigint in SQL: values above Int64.max clamp, which
  /// no seq ever reaches but a client may send (it then simply matches nothing).
  public var postgresBind: PostgresBind { .text(Array(String(Int64(clamping: self)).utf8)) }
}

extension Double: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(Array(String(self).utf8)) }
}

extension Bool: PostgresEncodable {
  public var postgresBind: PostgresBind { .text(self ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")]) }
}

/// An element of a text-format array literal: a string, or NULL.
public protocol PostgresArrayElement {
  /// The element's text; nil for NULL.
  var postgresArrayText: String? { get }
}

extension String: PostgresArrayElement {
  public var postgresArrayText: String? { self }
}

extension Optional: PostgresArrayElement where Wrapped == String {
  public var postgresArrayText: String? { self }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
  /// An array literal (`text[]`, or any type cast from it): every element quoted, quotes and
  /// backslashes escaped; nil elements unquoted NULL.
  public var postgresBind: PostgresBind {
    var literal = "{"
    for (index, element) in enumerated() {
      if index > 0 { literal += "," }
      guard let text = element.postgresArrayText else {
        literal += "NULL"
        continue
      }
      literal += "\""
      for scalar in text.unicodeScalars {
        if scalar == "\"" || scalar == "\\" { literal += "\\" }
        literal.unicodeScalars.append(scalar)
      }
      literal += "\""
    }
    return .text([UInt8]((literal + "}").utf8))
  }
}

/// Raw bytes sent as binary (bytea), or as text bytes when tests need to send invalid UTF-8.
public struct PostgresBytes: PostgresEncodable, Hashable {
  public var bytes: [UInt8]
  public var asText: Bool

  public init(_ bytes: [UInt8], asText: Bool = false) {
    self.bytes = bytes
    self.asText = asText
  }

  public var postgresBind: PostgresBind { asText ? .text(bytes) : .binary(bytes) }
}
