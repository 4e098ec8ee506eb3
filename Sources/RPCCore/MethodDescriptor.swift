/// How many messages flow each way in a method.
public enum MethodKind: Sendable, Hashable {
  case unary
  case serverStreaming
  case clientStreaming
  case bidiStreaming

  public var clientStreams: Bool { self == .clientStreaming || self == .bidiStreaming }
  public var serverStreams: Bool { self == .serverStreaming || self == .bidiStreaming }
}

/// Names one RPC method: its fully qualified service, its method name and its kind.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
  /// Fully qualified, as in the .proto: `chat.v1.ChatService`.
  public let service: String
  /// As in the .proto: `SendMessage`.
  public let method: String
  public let kind: MethodKind

  public init(service: String, method: String, kind: MethodKind) {
    self.service = service
    self.method = method
    self.kind = kind
  }

  /// The HTTP/2 `:path` of the method: `/chat.v1.ChatService/SendMessage`.
  public var path: String { "/\(service)/\(method)" }

  public var description: String { path }
}
