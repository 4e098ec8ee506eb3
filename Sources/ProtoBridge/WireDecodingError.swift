public import RPCCore

/// Thrown when bytes are not a valid encoding of the expected message.
public struct WireDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The fully qualified protobuf name of the message being decoded.
  public let messageName: String
  /// How many bytes were offered.
  public let byteCount: Int
  /// What is wrong, when more is known than "not a valid encoding".
  public let reason: String?

  public init(messageName: String, byteCount: Int, reason: String? = nil) {
    self.messageName = messageName
    self.byteCount = byteCount
    self.reason = reason
  }

  public var description: String {
    let detail = reason.map { ": \($0)" } ?? ""
    return "invalid protobuf encoding of \(messageName) (\(byteCount) bytes)\(detail)"
  }
}

extension WireDecodingError: RPCErrorConvertible {
  /// A peer that sends such bytes gets INVALID_ARGUMENT saying what could not be decoded.
  public var rpcError: RPCError {
    RPCError(code: .invalidArgument, message: description)
  }
}
