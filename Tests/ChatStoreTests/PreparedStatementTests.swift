import Foundation
import Testing

@testable import ChatStore

/// Statements run prepared, once per connection and SQL text; the server's own list
/// (`pg_prepared_statements`, per session) shows what a connection holds.
@Suite struct PreparedStatementTests {
  private func connect() async throws -> PostgresConnection {
    try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
  }

  /// The statements this session holds, by SQL text.
  private func prepared(on connection: PostgresConnection) async throws -> [String: Int] {
    let rows = try await connection.query(
      "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'chatd\\_%'")
    var counts: [String: Int] = [:]
    for row in rows.rows { counts[try row.decode("statement", as: String.self), default: 0] += 1 }
    return counts
  }

  @Test func aStatementIsPreparedOnceAndReused() async throws {
    let connection = try await connect()
    defer { connection.close() }
    for value in 1...3 {
      let row = try #require(
        try await connection.query("SELECT \(Int64(value))::bigint + 1 AS v").first)
      #expect(try row.decode("v", as: Int64.self) == Int64(value) + 1)
    }
    // Twice in one pipeline, before the connection has it: prepared once, run twice.
    let twice = try await connection.execute([
      "SELECT \(Int64(7))::bigint * 2 AS w", "SELECT \(Int64(8))::bigint * 2 AS w",
    ])
    #expect(try twice.map { try $0.first!.decode("w", as: Int64.self) } == [14, 16])
    let held = try await prepared(on: connection)
    #expect(held["SELECT $1::bigint + 1 AS v"] == 1)
    #expect(held["SELECT $1::bigint * 2 AS w"] == 1)
  }

  /// A Parse the server confirmed is kept even when a later statement fails the pipeline; a
  /// statement the failure aborted before its Parse ran is prepared by the next request.
  @Test func failedPipelinesKeepOnlyConfirmedStatements() async throws {
    let connection = try await connect()
    defer { connection.close() }
    await #expect(throws: StoreError.self) {
      _ = try await connection.execute([
        "SELECT \(Int64(1))::bigint AS before_failure", "SELECT 1/0 AS boom",
        "SELECT \(Int64(2))::bigint AS after_failure",
      ])
    }
    var held = try await prepared(on: connection)
    #expect(held["SELECT $1::bigint AS before_failure"] == 1)
    #expect(held["SELECT $1::bigint AS after_failure"] == nil)
    let row = try #require(
      try await connection.query("SELECT \(Int64(5))::bigint AS after_failure").first)
    #expect(try row.decode("after_failure", as: Int64.self) == 5)
    held = try await prepared(on: connection)
    #expect(held["SELECT $1::bigint AS after_failure"] == 1)
  }

  /// A migration that adds a column under a prepared `SELECT *` makes the server refuse the
  /// statement ("cached plan must not change result type"). Outside a transaction block the
  /// call is sent again, prepared anew, and answers with the new column; the old names are
  /// deallocated.
  @Test func aStatementWhoseResultTypeChangedIsPreparedAgain() async throws {
    let table = "prepared_shape_\(UUID().uuidString.prefix(8).lowercased())"
    let connection = try await connect()
    let migrator = try await connect()
    defer {
      connection.close()
      migrator.close()
    }
    _ = try await migrator.query("CREATE TABLE \(unsafeSQL: table) (a int)")
    _ = try await migrator.query("INSERT INTO \(unsafeSQL: table) VALUES (1)")
    let select = PostgresQuery(unsafeSQL: "SELECT * FROM \(table)")
    #expect(try await connection.query(select).first?.decode("a", as: Int.self) == 1)

    _ = try await migrator.query("ALTER TABLE \(unsafeSQL: table) ADD COLUMN b int DEFAULT 2")
    let row = try #require(try await connection.query(select).first)
    #expect(try row.decode("a", as: Int.self) == 1)
    #expect(try row.decode("b", as: Int.self) == 2)
    #expect(try await prepared(on: connection)[select.sql] == 1)

    // Inside a transaction block the statement's error reaches the caller (the block is
    // aborted, sending it again could not help); the next call prepares it anew.
    _ = try await migrator.query("ALTER TABLE \(unsafeSQL: table) ADD COLUMN c int DEFAULT 3")
    _ = try await connection.query("BEGIN")
    let error = await #expect(throws: StoreError.self) { _ = try await connection.query(select) }
    #expect(error?.sqlState == "0A000")
    _ = try await connection.query("ROLLBACK")
    #expect(try await connection.query(select).first?.decode("c", as: Int.self) == 3)
    _ = try await migrator.query("DROP TABLE \(unsafeSQL: table)")
  }

  /// `--database-prepared-statements off`: every statement goes unnamed.
  @Test func preparingCanBeTurnedOff() async throws {
    var configuration = PostgresConnection.Configuration(conninfo: TestCluster.baseURL)
    configuration.preparedStatements = false
    let connection = try await PostgresConnection.connect(configuration)
    defer { connection.close() }
    for value in 1...3 {
      let row = try #require(
        try await connection.query("SELECT \(Int64(value))::bigint AS v").first)
      #expect(try row.decode("v", as: Int64.self) == Int64(value))
    }
    #expect(try await prepared(on: connection).isEmpty)
  }

  @Test func aConnectionHoldsAtMostTheLimit() {
    var statements = PreparedStatements()
    var confirmed = 0
    while let name = statements.newName(pending: 0) {
      statements.confirm("SELECT \(confirmed)", as: name)
      confirmed += 1
    }
    #expect(confirmed == PreparedStatements.defaultLimit)
    #expect(statements.name(for: "SELECT 0") == "chatd_1")
    statements.forgetAll()
    #expect(statements.needsDeallocation)
    #expect(statements.name(for: "SELECT 0") == nil)
    #expect(statements.newName(pending: 0) == "chatd_\(PreparedStatements.defaultLimit + 1)")
  }
}
