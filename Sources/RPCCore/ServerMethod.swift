/// One method a server serves: its descriptor and its handler, working on encoded messages.
public struct ServerMethod: Sendable {
  public let descriptor: MethodDescriptor
  public private(set) var handler: Handler
  /// Where the transport reports this method's calls (`RPCRouter.observed(by:)`), if anywhere.
  public internal(set) var observer: (any CallObserver)?

  /// The four call shapes. Unary keeps its own shape: the transport runs it without streams.
  public enum Handler: Sendable {
    case unary(@Sendable (_ request: [UInt8], ServerContext) async throws -> [UInt8])
    case serverStreaming(
      @Sendable (_ request: [UInt8], any MessageSink, ServerContext) async throws -> Void)
    case clientStreaming(@Sendable (any MessageSource, ServerContext) async throws -> [UInt8])
    case bidiStreaming(
      @Sendable (any MessageSource, any MessageSink, ServerContext) async throws -> Void)
  }

  public init(descriptor: MethodDescriptor, handler: Handler) {
    self.descriptor = descriptor
    self.handler = handler
  }
}

extension ServerMethod {
  /// The same method with interceptors around its handler, the first one outermost.
  func intercepted(by interceptors: [any ServerInterceptor]) -> ServerMethod {
    let interceptors = interceptors.filter { $0.applies(to: descriptor) }
    guard !interceptors.isEmpty else { return self }
    let chain = InterceptorChain(interceptors: interceptors)
    var method = self
    switch handler {
    case .unary(let handle):
      method.handler = .unary { request, context in
        try await chain.run(context) { try await handle(request, $0) }
      }
    case .serverStreaming(let handle):
      method.handler = .serverStreaming { request, sink, context in
        try await chain.run(context) { try await handle(request, sink, $0) }
      }
    case .clientStreaming(let handle):
      method.handler = .clientStreaming { source, context in
        try await chain.run(context) { try await handle(source, $0) }
      }
    case .bidiStreaming(let handle):
      method.handler = .bidiStreaming { source, sink, context in
        try await chain.run(context) { try await handle(source, sink, $0) }
      }
    }
    return method
  }
}
