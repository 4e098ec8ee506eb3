/// The outcome of an RPC: a gRPC status code and a human-readable message.
public struct Status: Sendable, Hashable, CustomStringConvertible {
  public var code: Code
  public var message: String

  public init(code: Code, message: String = "") {
    self.code = code
    self.message = message
  }

  public static let ok = Status(code: .ok)

  public var description: String {
    message.isEmpty ? "\(code)" : "\(code): \(message)"
  }
}

extension Status {
  /// The gRPC status codes, with their wire values (grpc/grpc doc/statuscodes.md).
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int

    /// Wire values outside 0...16 are kept as they are, so nothing a peer sends is lost.
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let ok = Code(rawValue: 0)
    public static let cancelled = Code(rawValue: 1)
    public static let unknown = Code(rawValue: 2)
    public static let invalidArgument = Code(rawValue: 3)
    public static let deadlineExceeded = Code(rawValue: 4)
    public static let notFound = Code(rawValue: 5)
    public static let alreadyExists = Code(rawValue: 6)
    public static let permissionDenied = Code(rawValue: 7)
    public static let resourceExhausted = Code(rawValue: 8)
    public static let failedPrecondition = Code(rawValue: 9)
    public static let aborted = Code(rawValue: 10)
    public static let outOfRange = Code(rawValue: 11)
    public static let unimplemented = Code(rawValue: 12)
    public static let internalError = Code(rawValue: 13)
    public static let unavailable = Code(rawValue: 14)
    public static let dataLoss = Code(rawValue: 15)
    public static let unauthenticated = Code(rawValue: 16)

    private static let names = [
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED",
    ]

    /// The canonical upper-case name, as logs and other gRPC implementations print it.
    public var description: String {
      Self.names.indices.contains(rawValue) ? Self.names[rawValue] : "CODE_\(rawValue)"
    }
  }
}
