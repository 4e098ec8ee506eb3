/// The one error type of the store.
///
/// `description` names the kind and the SQLSTATE only: SQL text, bound values and server
/// messages never reach it, so an error can be logged or mapped to a client status without
/// leaking data. The server's message is kept in `serverMessage` for the log.
public struct StoreError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, coarse enough for the services to map to a status code.
  public enum Kind: Sendable, Hashable {
    /// PostgreSQL cannot be reached, the connection broke, or the pool timed out. Retriable.
    case unavailable
    /// A unique constraint was violated (`constraint` names it).
    case conflict
    /// A referenced row does not exist (foreign key violation) or the row asked for is missing.
    case notFound
    /// The caller may not do this (not the sender, not an owner or admin).
    case permissionDenied
    /// A value was refused: NUL bytes, invalid UTF-8 or text PostgreSQL cannot parse.
    case invalidInput
    /// The statement ran past `statement_timeout`.
    case timeout
    /// A serialization failure or deadlock: the transaction may be retried.
    case retry
    /// Anything else: a bug or an unexpected server state.
    case internalError
  }

  public var kind: Kind
  /// The five-character SQLSTATE when the server reported one.
  public var sqlState: String?
  /// The violated constraint, for conflicts and foreign key errors.
  public var constraint: String?
  /// The server's or libpq's message; may contain data: log it, never send it to a client.
  public var serverMessage: String?

  public init(
    _ kind: Kind, sqlState: String? = nil, constraint: String? = nil, serverMessage: String? = nil
  ) {
    self.kind = kind
    self.sqlState = sqlState
    self.constraint = constraint
    self.serverMessage = serverMessage
  }

  public var description: String {
    var text = "StoreError(\(kind)"
    if let sqlState { text += ", sqlState: \(sqlState)" }
    if let constraint { text += ", constraint: \(constraint)" }
    return text + ")"
  }

  /// Maps a SQLSTATE to a kind: class 08 and the shutdown codes are connection loss.
  static func kind(forSQLState state: String) -> Kind {
    switch state {
    case "23505": return .conflict
    case "23503", "P0002": return .notFound
    case "42501": return .permissionDenied
    case "57014": return .timeout
    case "40001", "40P01": return .retry
    case "57P01", "57P02", "57P03", "53300": return .unavailable
    default:
      if state.hasPrefix("08") { return .unavailable }
      if state.hasPrefix("22") { return .invalidInput }
      return .internalError
    }
  }
}
