/// The methods a server serves, by HTTP/2 path.
public struct RPCRouter: Sendable {
  private var methods: [String: ServerMethod] = [:]

  public init() {}

  /// Registers every method of each service.
  public init(services: [any RegistrableRPCService]) {
    for service in services { service.registerMethods(with: &self) }
  }

  public mutating func register(_ method: ServerMethod) {
    methods[method.descriptor.path] = method
  }

  public func method(forPath path: String) -> ServerMethod? { methods[path] }

  /// Fully qualified names of the registered services, sorted.
  public var serviceNames: [String] { Set(methods.values.map(\.descriptor.service)).sorted() }

  public func hasService(_ name: String) -> Bool {
    methods.values.contains { $0.descriptor.service == name }
  }

  /// The same routes with interceptors around every handler, the first one outermost.
  public func intercepted(by interceptors: [any ServerInterceptor]) -> RPCRouter {
    mapMethods { $0.intercepted(by: interceptors) }
  }

  /// The same paths, each method transformed once.
  func mapMethods(_ transform: (ServerMethod) -> ServerMethod) -> RPCRouter {
    var router = self
    router.methods = methods.mapValues(transform)
    return router
  }
}

/// A service whose methods a router can serve: generated service protocols conform.
public protocol RegistrableRPCService: Sendable {
  func registerMethods(with router: inout RPCRouter)
}

extension RPCRouter {
  public mutating func registerUnary<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
  ) {
    register(
      ServerMethod(
        descriptor: method,
        handler: .unary { bytes, context in
          try await handler(Request.decodeForRPC(bytes), context).wireBytes()
        }))
  }

  public mutating func registerServerStreaming<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
  ) {
    register(
      ServerMethod(
        descriptor: method,
        handler: .serverStreaming { bytes, sink, context in
          try await handler(Request.decodeForRPC(bytes), RPCWriter(sink), context)
        }))
  }

  public mutating func registerClientStreaming<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (RPCAsyncSequence<Request>, ServerContext) async throws -> Response
  ) {
    register(
      ServerMethod(
        descriptor: method,
        handler: .clientStreaming { source, context in
          try await handler(RPCAsyncSequence(source), context).wireBytes()
        }))
  }

  public mutating func registerBidiStreaming<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor,
    handler:
      @escaping @Sendable (RPCAsyncSequence<Request>, RPCWriter<Response>, ServerContext)
      async throws -> Void
  ) {
    register(
      ServerMethod(
        descriptor: method,
        handler: .bidiStreaming { source, sink, context in
          try await handler(RPCAsyncSequence(source), RPCWriter(sink), context)
        }))
  }
}
