/// Fields a message's type does not declare, kept as their raw wire bytes (tag + payload,
/// in the order they were read) so that decode -> encode preserves them.
public struct UnknownFields: Hashable, Sendable {
  /// The concatenated encoded fields.
  public var bytes: [UInt8]

  public init() {
    bytes = []
  }

  public init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  public var isEmpty: Bool { bytes.isEmpty }
}
