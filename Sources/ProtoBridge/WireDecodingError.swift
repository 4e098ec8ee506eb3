/// Thrown when bytes are not a valid encoding of the expected message.
public struct WireDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The fully qualified protobuf name of the message being decoded.
  public let messageName: String
  /// How many bytes were offered.
  public let byteCount: Int

  public init(messageName: String, byteCount: Int) {
    self.messageName = messageName
    self.byteCount = byteCount
  }

  public var description: String {
    "invalid protobuf encoding of \(messageName) (\(byteCount) bytes)"
  }
}
