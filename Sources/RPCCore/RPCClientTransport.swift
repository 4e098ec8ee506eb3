/// Options of one client call.
public struct CallOptions: Sendable {
  /// How long the client waits; sent as `grpc-timeout`.
  public var timeout: Duration?
  /// Request metadata sent with the call.
  public var metadata: Metadata

  public init(timeout: Duration? = nil, metadata: Metadata = [:]) {
    self.timeout = timeout
    self.metadata = metadata
  }

  public static var defaults: CallOptions { CallOptions() }
}

/// A connection that runs calls on encoded messages; generated client stubs sit on top.
///
/// A call that ends with a status other than OK throws `RPCError` from the response source.
public protocol RPCClientTransport: Sendable {
  func call<Result: Sendable>(
    _ method: MethodDescriptor,
    options: CallOptions,
    requests: @escaping @Sendable (any MessageSink) async throws -> Void,
    responses: @escaping @Sendable (any MessageSource) async throws -> Result
  ) async throws -> Result
}

extension RPCClientTransport {
  public func unary<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor, request: Request, options: CallOptions = .defaults
  ) async throws -> Response {
    try await call(method, options: options) {
      try await $0.write(request.wireBytes())
    } responses: {
      try await Self.single(Response.self, from: $0, method: method)
    }
  }

  public func serverStreaming<Request: WireMessage, Response: WireMessage, Result: Sendable>(
    _ method: MethodDescriptor, request: Request, options: CallOptions = .defaults,
    onResponse: @escaping @Sendable (RPCAsyncSequence<Response>) async throws -> Result
  ) async throws -> Result {
    try await call(method, options: options) {
      try await $0.write(request.wireBytes())
    } responses: {
      try await onResponse(RPCAsyncSequence($0))
    }
  }

  public func clientStreaming<Request: WireMessage, Response: WireMessage>(
    _ method: MethodDescriptor, options: CallOptions = .defaults,
    requestProducer: @escaping @Sendable (RPCWriter<Request>) async throws -> Void
  ) async throws -> Response {
    try await call(method, options: options) {
      try await requestProducer(RPCWriter($0))
    } responses: {
      try await Self.single(Response.self, from: $0, method: method)
    }
  }

  public func bidiStreaming<Request: WireMessage, Response: WireMessage, Result: Sendable>(
    _ method: MethodDescriptor, options: CallOptions = .defaults,
    requestProducer: @escaping @Sendable (RPCWriter<Request>) async throws -> Void,
    onResponse: @escaping @Sendable (RPCAsyncSequence<Response>) async throws -> Result
  ) async throws -> Result {
    try await call(method, options: options) {
      try await requestProducer(RPCWriter($0))
    } responses: {
      try await onResponse(RPCAsyncSequence($0))
    }
  }

  /// The one response of a unary or client-streaming call.
  private static func single<Response: WireMessage>(
    _ type: Response.Type, from source: any MessageSource, method: MethodDescriptor
  ) async throws -> Response {
    guard let bytes = try await source.next() else {
      throw RPCError(code: .internalError, message: "\(method) ended without a response message")
    }
    guard try await source.next() == nil else {
      throw RPCError(code: .internalError, message: "\(method) sent more than one response message")
    }
    return try Response(wireBytes: bytes)
  }
}
