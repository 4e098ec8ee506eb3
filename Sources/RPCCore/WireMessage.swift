/// A message that travels in the protobuf wire format.
///
/// This is the one seam where encoding meets RPC code: the engine moves bytes, generated
/// types turn them into values.
public protocol WireMessage: Sendable {
  /// Decodes a message; throws when the bytes are not a valid encoding of this type.
  init(wireBytes: [UInt8]) throws
  /// Encodes the message.
  func wireBytes() -> [UInt8]
}

/// A message encoded once, written as is: fan-out encodes an event once for every subscriber.
public struct EncodedMessage: WireMessage, Hashable {
  public let bytes: [UInt8]

  public init(bytes: [UInt8]) { self.bytes = bytes }
  public init(wireBytes: [UInt8]) { self.bytes = wireBytes }
  public init(_ message: some WireMessage) { self.bytes = message.wireBytes() }

  public func wireBytes() -> [UInt8] { bytes }
}
