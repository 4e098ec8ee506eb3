/// One row of a result, values in PostgreSQL's text format (nil for NULL).
public struct PostgresRow: Sendable {
  let columns: PostgresColumns
  let values: [[UInt8]?]

  /// The raw text bytes of a column, nil for NULL.
  public func raw(_ column: String) throws -> [UInt8]? {
    values[try columns.index(of: column)]
  }

  /// Decodes a non-NULL column; NULL or an unparsable value throws `.internalError`.
  public func decode<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T {
    guard let bytes = try raw(column) else {
      throw StoreError(.internalError, serverMessage: "column \(column) is NULL")
    }
    guard let value = T(postgresText: bytes) else {
      throw StoreError(.internalError, serverMessage: "column \(column) is not \(T.self)")
    }
    return value
  }

  /// Decodes a column that may be NULL.
  public func decode<T: PostgresDecodable>(_ column: String, as: T?.Type = T?.self) throws -> T? {
    guard let bytes = try raw(column) else { return nil }
    guard let value = T(postgresText: bytes) else {
      throw StoreError(.internalError, serverMessage: "column \(column) is not \(T.self)")
    }
    return value
  }
}

/// Column names shared by every row of a result.
final class PostgresColumns: Sendable {
  let names: [String]
  private let indexes: [String: Int]

  init(names: [String]) {
    self.names = names
    var indexes: [String: Int] = [:]
    for (index, name) in names.enumerated() where indexes[name] == nil { indexes[name] = index }
    self.indexes = indexes
  }

  func index(of name: String) throws -> Int {
    guard let index = indexes[name] else {
      throw StoreError(.internalError, serverMessage: "no column \(name)")
    }
    return index
  }
}

/// The outcome of one statement: its rows (possibly none) and the affected row count.
public struct PostgresResult: Sendable {
  public var rows: [PostgresRow]
  /// Rows inserted, updated or deleted (from the command tag), 0 for other commands.
  public var affectedRows: Int

  /// The only row, or nil when there is none.
  public var first: PostgresRow? { rows.first }
}
