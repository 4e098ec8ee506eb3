public import RPCCore

/// A generated protobuf message: a value type that encodes to and decodes from wire bytes.
public protocol ProtoMessage: WireMessage, Hashable {
  /// A message with every field at its default.
  init()
  /// Fields this type does not know, kept as raw wire bytes so that they survive a
  /// decode -> encode round trip.
  var unknownFields: UnknownFields { get set }
}

extension ProtoMessage {
  /// A message built by mutating a default one: `Foo.with { $0.name = "x" }`.
  public static func with(_ configure: (inout Self) throws -> Void) rethrows -> Self {
    var message = Self()
    try configure(&message)
    return message
  }
}
