/// The named statements one connection has prepared, by SQL text.
///
/// Why: a statement sent unnamed is parsed and analysed on every call. Prepared once per
/// connection, a call is only Bind and Execute: about 0.1 ms less per call for
/// `chat_send_messages` (pgbench `-M prepared` against `-M extended`, docs/benchmarks.md),
/// which is most of what planning a function call costs. Repositories build their SQL from
/// literals, so the texts are few and fixed; `limit` bounds what any other text (tests, a
/// table name spliced in) can make the server hold, and past it statements go unnamed.
///
/// A limit of 0 sends every statement unnamed (`--database-prepared-statements off`, for a
/// pooler that cannot carry named statements).
///
/// A statement is remembered only once the server confirms its Parse: a pipeline aborted
/// before that leaves nothing behind. `forgetAll` is for a server that refused a prepared
/// statement (its result type changed under a migration); the names are then deallocated
/// at the head of the next pipeline.
struct PreparedStatements {
  /// The most statements a connection prepares by default.
  static let defaultLimit = 256

  let limit: Int
  private var names: [String: String] = [:]
  private var counter = 0
  /// Names the server may still hold although this connection no longer uses them.
  private(set) var needsDeallocation = false

  init(limit: Int = Self.defaultLimit) {
    self.limit = limit
  }

  /// The name `sql` was prepared under, if it was.
  func name(for sql: String) -> String? { names[sql] }

  /// A fresh name, or nil when the connection holds `limit` statements already.
  /// `pending` counts the names handed out but not confirmed yet.
  mutating func newName(pending: Int) -> String? {
    guard names.count + pending < limit else { return nil }
    counter += 1
    return "chatd_\(counter)"
  }

  /// The server parsed `sql` as `name`.
  mutating func confirm(_ sql: String, as name: String) {
    names[sql] = name
  }

  mutating func forgetAll() {
    if !names.isEmpty { needsDeallocation = true }
    names = [:]
  }

  /// `DEALLOCATE ALL` is on its way: every name the server held is gone.
  mutating func deallocated() {
    needsDeallocation = false
  }
}
