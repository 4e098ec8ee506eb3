/// A SQL statement whose interpolated values become `$n` bind parameters.
///
/// ```swift
/// let query: PostgresQuery = "SELECT id FROM users WHERE id = \(userID)"
/// // sql: "SELECT id FROM users WHERE id = $1", binds: [userID]
/// ```
/// Text that must become SQL (a table name in a test, a migration) needs the explicit
/// `\(unsafeSQL: ...)` interpolation, so values can never be executed by accident.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
  /// The statement with `$1`, `$2`, ... placeholders.
  public private(set) var sql: String
  /// The bound values in placeholder order, already in PostgreSQL's text format (nil is NULL).
  public private(set) var binds: [PostgresBind]

  public init(unsafeSQL sql: String, binds: [PostgresBind] = []) {
    self.sql = sql
    self.binds = binds
  }

  public init(stringLiteral value: String) {
    self.init(unsafeSQL: value)
  }

  public init(stringInterpolation: StringInterpolation) {
    self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
  }

  public struct StringInterpolation: StringInterpolationProtocol {
    var sql = ""
    var binds: [PostgresBind] = []

    public init(literalCapacity: Int, interpolationCount: Int) {
      sql.reserveCapacity(literalCapacity + interpolationCount * 3)
    }

    public mutating func appendLiteral(_ literal: String) {
      sql += literal
    }

    /// A value: appended as the next `$n`.
    public mutating func appendInterpolation(_ value: some PostgresEncodable) {
      binds.append(value.postgresBind)
      sql += "$\(binds.count)"
    }

    /// An optional value: NULL when nil.
    public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
      binds.append(value?.postgresBind ?? .null)
      sql += "$\(binds.count)"
    }

    /// Another query spliced in as a subquery: its placeholders are renumbered after this
    /// query's binds, so its values stay bind parameters.
    public mutating func appendInterpolation(subquery: PostgresQuery) {
      let offset = binds.count
      binds.append(contentsOf: subquery.binds)
      var text = subquery.sql[...]
      while let dollar = text.firstIndex(of: "$") {
        sql += text[..<dollar]
        let digits = text[text.index(after: dollar)...].prefix(while: \.isASCIIDigitCharacter)
        if let number = Int(digits) {
          sql += "$\(number + offset)"
        } else {
          sql += "$"
        }
        text = text[text.index(after: dollar)...].dropFirst(digits.count)
      }
      sql += text
    }

    /// Raw SQL text, spliced as is. Never pass user input here.
    public mutating func appendInterpolation(unsafeSQL text: String) {
      sql += text
    }
  }
}

extension Character {
  fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
