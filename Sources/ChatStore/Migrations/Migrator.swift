/// Applies the embedded migrations that a database lacks.
///
/// Several chatd processes may start at once: each takes the same session advisory lock
/// before reading `schema_migrations`, so one applies and the others then find nothing to do.
/// Each migration runs in its own transaction together with its `schema_migrations` row.
package enum Migrator {
  /// The advisory lock key: "chatd" in ASCII, shared by every chatd version.
  static let lockKey: Int64 = 0x63_68_61_74_64

  /// Migrates the database; returns the versions this call applied.
  @discardableResult
  package static func migrate(
    _ connection: PostgresConnection, migrations: [Migration] = Migration.all
  ) async throws -> [Int] {
    _ = try await connection.query("SELECT pg_advisory_lock(\(lockKey))")
    do {
      let applied = try await apply(migrations, on: connection)
      _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))")
      return applied
    } catch {
      // The session lock dies with the connection if these cannot be sent.
      try? await connection.run(unsafeSQL: "ROLLBACK")
      _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))")
      throw error
    }
  }

  private static func apply(
    _ migrations: [Migration], on connection: PostgresConnection
  ) async throws -> [Int] {
    _ = try await connection.query(
      """
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())
      """)
    let rows = try await connection.query("SELECT version FROM schema_migrations").rows
    let done = Set(try rows.map { try $0.decode("version", as: Int.self) })
    var applied: [Int] = []
    for migration in migrations.sorted(by: { $0.version < $1.version })
    where !done.contains(migration.version) {
      // Version and name come from the binary, never from input.
      try await connection.run(
        unsafeSQL: """
          BEGIN;
          \(migration.sql)
          ;
          INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), '\(migration.name)');
          COMMIT;
          """)
      applied.append(migration.version)
    }
    return applied
  }
}
