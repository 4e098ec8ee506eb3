public import RPCCore
public import StandardProtos

/// grpc.testing.TestService as the gRPC interop test descriptions specify it; chatd serves
/// it only with `--enable-interop-testing`.
public struct InteropTestService: Grpc_Testing_TestService.ServiceProtocol {
  public init() {}

  public func emptyCall(request: Grpc_Testing_Empty, context: ServerContext) async throws
    -> Grpc_Testing_Empty
  {
    echoMetadata(context)
    return Grpc_Testing_Empty()
  }

  public func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws
    -> Grpc_Testing_SimpleResponse
  {
    echoMetadata(context)
    try checkCompression(expected: request.expectCompressed, context)
    if let compressed = request.responseCompressed {
      context.setResponseCompression(compressed.value)
    }
    try Self.fail(with: request.responseStatus)
    return try .with { $0.payload = try Self.payload(size: request.responseSize) }
  }

  public func streamingOutputCall(
    request: Grpc_Testing_StreamingOutputCallRequest,
    response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
  ) async throws {
    echoMetadata(context)
    try await respond(to: request, with: response, context: context)
  }

  public func streamingInputCall(
    requests: RPCAsyncSequence<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext
  ) async throws -> Grpc_Testing_StreamingInputCallResponse {
    echoMetadata(context)
    var total = 0
    for try await request in requests {
      try checkCompression(expected: request.expectCompressed, context)
      total += request.payload?.body.count ?? 0
    }
    return .with { $0.aggregatedPayloadSize = Int32(clamping: total) }
  }

  public func fullDuplexCall(
    requests: RPCAsyncSequence<Grpc_Testing_StreamingOutputCallRequest>,
    response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
  ) async throws {
    echoMetadata(context)
    for try await request in requests {
      try await respond(to: request, with: response, context: context)
    }
  }

  public func halfDuplexCall(
    requests: RPCAsyncSequence<Grpc_Testing_StreamingOutputCallRequest>,
    response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
  ) async throws {
    echoMetadata(context)
    var all: [Grpc_Testing_StreamingOutputCallRequest] = []
    for try await request in requests { all.append(request) }
    for request in all { try await respond(to: request, with: response, context: context) }
  }

  public func unimplementedCall(request: Grpc_Testing_Empty, context: ServerContext) async throws
    -> Grpc_Testing_Empty
  {
    throw RPCError(code: .unimplemented, message: "UnimplementedCall is not implemented")
  }

  // MARK: Behaviour shared by the methods

  private func respond(
    to request: Grpc_Testing_StreamingOutputCallRequest,
    with response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
  ) async throws {
    try Self.fail(with: request.responseStatus)
    for parameters in request.responseParameters {
      if parameters.intervalUs > 0 {
        try await Task.sleep(for: .microseconds(Int(parameters.intervalUs)))
      }
      context.setResponseCompression(parameters.compressed?.value ?? false)
      try await response.write(.with { $0.payload = try Self.payload(size: parameters.size) })
    }
  }

  /// Custom metadata test: the echo keys come back in the response headers and trailers.
  private func echoMetadata(_ context: ServerContext) {
    if let initial = context.requestMetadata.firstString(forKey: "x-grpc-test-echo-initial") {
      context.setInitialMetadata(["x-grpc-test-echo-initial": .string(initial)])
    }
    if let trailing = context.requestMetadata.firstBinary(forKey: "x-grpc-test-echo-trailing-bin") {
      context.addTrailingMetadata(["x-grpc-test-echo-trailing-bin": .binary(trailing)])
    }
  }

  private func checkCompression(expected: Grpc_Testing_BoolValue?, _ context: ServerContext)
    throws
  {
    // Only the compressed expectation is checked: the probe of client_compressed_* sends it
    // with an uncompressed message and needs INVALID_ARGUMENT back.
    guard expected?.value == true, !context.lastRequestMessageWasCompressed else { return }
    throw RPCError(code: .invalidArgument, message: "expected a compressed request message")
  }

  private static func fail(with status: Grpc_Testing_EchoStatus?) throws {
    guard let status, status.code != 0 else { return }
    throw RPCError(code: Status.Code(rawValue: Int(status.code)), message: status.message)
  }

  /// Zeros of the size asked for, up to the 4 MiB a client takes by default.
  private static func payload(size: Int32) throws -> Grpc_Testing_Payload {
    guard size <= 4 << 20 else {
      throw RPCError(code: .invalidArgument, message: "payloads are limited to 4 MiB")
    }
    return .with {
      $0.type = .compressable
      $0.body = [UInt8](repeating: 0, count: Int(max(0, size)))
    }
  }
}
