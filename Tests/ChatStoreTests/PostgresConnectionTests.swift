import Testing

@testable import ChatStore

@Suite struct PostgresConnectionTests {
  @Test func bindsValuesAndDecodesRows() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let text = "it's a \\ \"quoted\" '; DROP TABLE x; --"
    let result = try await connection.query(
      "SELECT \(text)::text AS t, \(Int64(42))::bigint AS n, \(true)::bool AS b, NULL::text AS z, \(["a\"b", "c\\d"])::text[] AS arr"
    )
    let row = try #require(result.first)
    #expect(try row.decode("t", as: String.self) == text)
    #expect(try row.decode("n", as: Int64.self) == 42)
    #expect(try row.decode("b", as: Bool.self) == true)
    #expect(try row.decode("z", as: String?.self) == nil)
    #expect(try row.decode("arr", as: String.self) == #"{"a\"b","c\\d"}"#)
  }

  /// Arrays of optional strings bind NULL elements as NULL, not as the text "NULL".
  @Test func arraysBindNullElements() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let values: [String?] = [nil, "NULL", "a\"b", nil]
    let row = try #require(
      try await connection.query(
        """
        SELECT array_position(\(values)::text[], NULL) AS first_null,
          cardinality(array_remove(\(values)::text[], NULL)) AS present,
          (\(values)::text[])[2] AS second, (\(values)::text[])[3] AS third
        """
      ).first)
    #expect(try row.decode("first_null", as: Int.self) == 1)
    #expect(try row.decode("present", as: Int.self) == 2)
    #expect(try row.decode("second", as: String.self) == "NULL")
    #expect(try row.decode("third", as: String.self) == "a\"b")
  }

  @Test func pipelineRunsStatementsInOrder() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let queries: [PostgresQuery] = (1...100).map { "SELECT \($0)::int AS v" }
    let results = try await connection.execute(queries)
    #expect(try results.map { try $0.first!.decode("v", as: Int.self) } == Array(1...100))
  }

  @Test func serverErrorsCarrySQLStateAndRedactData() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let secret = "secret-value"
    let error = await #expect(throws: StoreError.self) {
      _ = try await connection.query("SELECT \(secret)::int")
    }
    #expect(error?.kind == .invalidInput)
    #expect(error?.sqlState == "22P02")
    #expect(error?.description.contains(secret) == false)
    #expect(error?.serverMessage?.contains(secret) == true)
    // The connection stays usable after an error.
    #expect(try await connection.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
  }

  @Test func nulBytesAreRefusedBeforeSending() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let error = await #expect(throws: StoreError.self) {
      _ = try await connection.query("SELECT \("a\u{0}b")::text")
    }
    #expect(error?.kind == .invalidInput)
    let invalid = await #expect(throws: StoreError.self) {
      _ = try await connection.query(
        "SELECT \(PostgresBytes([0x61, 0xff, 0xfe], asText: true))::text")
    }
    #expect(invalid?.kind == .invalidInput)
  }

  @Test func unreachableServerIsUnavailable() async throws {
    let error = await #expect(throws: StoreError.self) {
      _ = try await PostgresConnection.connect(
        .init(conninfo: "postgresql://postgres@/postgres?host=/nonexistent-chatd-socket"))
    }
    #expect(error?.kind == .unavailable)
  }

  @Test func statementTimeoutIsTyped() async throws {
    var configuration = PostgresConnection.Configuration(conninfo: TestCluster.baseURL)
    configuration.statementTimeout = .milliseconds(100)
    let connection = try await PostgresConnection.connect(configuration)
    defer { connection.close() }
    let error = await #expect(throws: StoreError.self) {
      _ = try await connection.query("SELECT pg_sleep(2)")
    }
    #expect(error?.kind == .timeout)
  }

  @Test func largeQueriesAreFlushedCompletely() async throws {
    let connection = try await PostgresConnection.connect(.init(conninfo: TestCluster.baseURL))
    defer { connection.close() }
    let big = String(repeating: "x", count: 4_000_000)
    let result = try await connection.query("SELECT length(\(big)) AS n")
    #expect(try result.first?.decode("n", as: Int.self) == 4_000_000)
  }
}
