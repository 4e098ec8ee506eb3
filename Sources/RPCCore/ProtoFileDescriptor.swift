/// One .proto file's serialized `FileDescriptorProto`, as server reflection serves it.
public struct ProtoFileDescriptor: Sendable {
  /// The file's path as imported: `chat/v1/room.proto`.
  public let name: String
  /// The encoded `google.protobuf.FileDescriptorProto`.
  public let serialized: [UInt8]
  /// The files it imports, by the same kind of name.
  public let dependencies: [String]
  /// Fully qualified names of what it defines: services, `Service.Method`s, messages, enums.
  public let symbols: [String]

  public init(name: String, serialized: [UInt8], dependencies: [String], symbols: [String]) {
    self.name = name
    self.serialized = serialized
    self.dependencies = dependencies
    self.symbols = symbols
  }
}
