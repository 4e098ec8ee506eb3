/// The error a handler throws to end an RPC with a status other than OK.
///
/// Anything else a handler throws ends the RPC as INTERNAL with a generic message: only
/// `RPCError` (or an `RPCErrorConvertible`) decides what a client is told.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
  public var code: Status.Code
  public var message: String
  /// Trailing metadata sent with the status (e.g. `grpc-status-details-bin`).
  public var metadata: Metadata

  public init(code: Status.Code, message: String, metadata: Metadata = [:]) {
    self.code = code
    self.message = message
    self.metadata = metadata
  }

  public init(_ status: Status, metadata: Metadata = [:]) {
    self.init(code: status.code, message: status.message, metadata: metadata)
  }

  public var status: Status { Status(code: code, message: message) }

  public var description: String { "RPCError(\(status))" }
}

/// A domain error that knows which RPC error it becomes at the edge.
public protocol RPCErrorConvertible: Error {
  var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
  public var rpcError: RPCError { self }
}

extension RPCError {
  /// The status a client sees for any error thrown by a handler or interceptor.
  ///
  /// Unknown errors are not described to the client: their text may hold internals.
  public static func from(_ error: any Error) -> RPCError {
    if let convertible = error as? any RPCErrorConvertible { return convertible.rpcError }
    if error is CancellationError {
      return RPCError(code: .cancelled, message: "the RPC was cancelled")
    }
    return RPCError(code: .internalError, message: "internal error")
  }
}
