public import ChatStore
public import RPCCore

/// The one place store errors become what a client is told. The store's descriptions hold
/// no SQL or data, but clients still get fixed messages: the detail stays in the log.
extension StoreError: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch kind {
    case .unavailable:
      return .withDetails(
        code: .unavailable, message: "the database is unavailable; retry later",
        detail: .errorInfo(reason: "DATABASE_UNAVAILABLE"))
    case .timeout:
      return .withDetails(
        code: .unavailable, message: "the database did not answer in time; retry later",
        detail: .errorInfo(reason: "DATABASE_TIMEOUT"))
    case .retry:
      return .withDetails(
        code: .aborted, message: "a concurrent change interfered; retry",
        detail: .errorInfo(reason: "CONCURRENT_CHANGE"))
    case .conflict:
      return .withDetails(
        code: .alreadyExists, message: "already exists", detail: .errorInfo(reason: "CONFLICT"))
    case .notFound:
      return .withDetails(
        code: .notFound, message: "not found", detail: .errorInfo(reason: "NOT_FOUND"))
    case .permissionDenied:
      return .withDetails(
        code: .permissionDenied, message: "permission denied",
        detail: .errorInfo(reason: "PERMISSION_DENIED"))
    case .invalidInput:
      return .withDetails(
        code: .invalidArgument, message: "a value of the request was refused",
        detail: .errorInfo(reason: "INVALID_VALUE"))
    case .internalError:
      return RPCError(code: .internalError, message: "internal error")
    }
  }
}

/// Errors with a message of the RPC's own (NOT_FOUND naming what is missing, ...).
enum ServiceError {
  static func notFound(_ what: String) -> RPCError {
    .withDetails(
      code: .notFound, message: "\(what) not found", detail: .errorInfo(reason: "NOT_FOUND"))
  }

  static func permissionDenied(_ message: String) -> RPCError {
    .withDetails(
      code: .permissionDenied, message: message, detail: .errorInfo(reason: "PERMISSION_DENIED"))
  }
}
