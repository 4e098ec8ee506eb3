/// One versioned schema change. The SQL lives in `Migrations/sql/NNNN_name.sql`;
/// scripts/gen embeds it in the binary (Migration+Embedded.swift).
package struct Migration: Sendable {
  package var version: Int
  package var name: String
  package var sql: String
}
