import Testing

@testable import ChatStore

@Suite struct MigrationTests {
  @Test func migratesAnEmptyDatabaseOnceAndReRunsAsNoOp() async throws {
    let configuration = try await TestCluster.freshDatabase()
    let connection = try await PostgresConnection.connect(configuration)
    defer { connection.close() }
    let first = try await Migrator.migrate(connection)
    #expect(first == Migration.all.map(\.version))
    #expect(first.count >= 3)
    let second = try await Migrator.migrate(connection)
    #expect(second.isEmpty)
    let recorded = try await connection.query("SELECT count(*) AS n FROM schema_migrations")
    #expect(try recorded.first?.decode("n", as: Int.self) == Migration.all.count)
  }

  @Test func twoConcurrentMigratorsApplyEachVersionOnce() async throws {
    let configuration = try await TestCluster.freshDatabase()
    let a = try await PostgresConnection.connect(configuration)
    let b = try await PostgresConnection.connect(configuration)
    defer {
      a.close()
      b.close()
    }
    async let first = Migrator.migrate(a)
    async let second = Migrator.migrate(b)
    let (one, two) = try await (first, second)
    #expect((one + two).sorted() == Migration.all.map(\.version))
    #expect(one.isEmpty || two.isEmpty)
  }

  @Test func aFailingMigrationLeavesNothingBehind() async throws {
    let configuration = try await TestCluster.freshDatabase()
    let connection = try await PostgresConnection.connect(configuration)
    defer { connection.close() }
    let broken = [
      Migration(version: 1, name: "ok", sql: "CREATE TABLE t1 (x int);"),
      Migration(version: 2, name: "bad", sql: "CREATE TABLE t2 (x int); SELECT 1/0;"),
    ]
    await #expect(throws: StoreError.self) {
      try await Migrator.migrate(connection, migrations: broken)
    }
    let tables = try await connection.query(
      "SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('t1', 't2')")
    #expect(try tables.first?.decode("n", as: Int.self) == 1)
    let versions = try await connection.query("SELECT version FROM schema_migrations")
    #expect(try versions.rows.map { try $0.decode("version", as: Int.self) } == [1])
  }
}
