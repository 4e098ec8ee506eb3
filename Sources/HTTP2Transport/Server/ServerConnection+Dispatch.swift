import NIOCore
import RPCCore

extension ServerConnection {
  /// Checks a complete request head and finds its method; answers errors trailers-only.
  func route(_ stream: ServerStream) {
    guard stream.headerBytes <= Int(configuration.maxHeaderListSize) else {
      return refuse(
        stream, .resourceExhausted,
        "request headers exceed the \(configuration.maxHeaderListSize)-byte limit")
    }
    let head = stream.head
    guard head.method == "POST" else {
      return refuse(stream, .unimplemented, "gRPC requires POST, not \(head.method)", http: 405)
    }
    guard head.isGRPC else {
      return refuse(
        stream, .unknown, "unsupported content-type \"\(head.contentType)\"", http: 415)
    }
    if let key = head.malformedBinaryKey {
      return refuse(stream, .invalidArgument, "metadata \(key) is not valid base64")
    }
    switch head.encoding {
    case nil, "identity": break
    case "gzip": stream.requestCompressed = true
    case let other?:
      return refuse(stream, .unimplemented, "unsupported grpc-encoding \"\(other)\"")
    }
    guard let method = router.method(forPath: head.path) else {
      let parts = head.path.split(separator: "/", omittingEmptySubsequences: false)
      let service = parts.count == 3 ? String(parts[1]) : head.path
      let message =
        router.hasService(service)
        ? "unknown method \(parts.last ?? "") for service \(service)"
        : "unknown service \(service)"
      return refuse(stream, .unimplemented, message)
    }
    stream.method = method
    if let observer = method.observer { stream.observe(observer) }
    if let timeout = head.timeout {
      guard let duration = GRPCTimeout.parse(timeout) else {
        return refuse(stream, .invalidArgument, "malformed grpc-timeout \"\(timeout)\"")
      }
      // grpc-timeout reaches 11,000 years; past a month a deadline is treated as none, which
      // keeps every clock computation far from overflow.
      if duration <= Self.longestDeadline {
        stream.deadline = .now + duration
        stream.deadlineTimer = eventLoop.scheduleTask(in: TimeAmount(duration)) {
          stream.deadlineExceeded()
        }
      }
    }
    if method.descriptor.kind.clientStreams {
      ready.append(stream)
    }
  }

  static let longestDeadline = Duration.seconds(30 * 24 * 3600)

  private func refuse(
    _ stream: ServerStream, _ code: Status.Code, _ message: String, http: Int = 200
  ) {
    if http == 200 {
      stream.finish(Status(code: code, message: message), [:])
    } else {
      session.submitResponse(
        streamID: stream.id,
        headers: ResponseHead.trailersOnly(
          Status(code: code, message: message), [:], httpStatus: http),
        hasBody: false)
      stream.failInbound(RPCError(code: code, message: message))
    }
  }

  /// Starts the handlers whose requests completed in the last `receive`.
  func startReadyStreams() {
    guard !ready.isEmpty else { return }
    let streams = ready
    ready.removeAll(keepingCapacity: true)
    for stream in streams where !stream.isFinished && !stream.closed {
      start(stream)
    }
  }

  private func start(_ stream: ServerStream) {
    guard let method = stream.method else { return }
    let context = ServerContext(
      method: method.descriptor, requestMetadata: stream.head.metadata, deadline: stream.deadline,
      peer: peer, call: stream, peerIdentity: peerIdentity)
    switch method.handler {
    case .unary(let handle):
      switch stream.takeSingleRequest() {
      case .failure(let error): stream.finish(error.status, error.metadata)
      case .success(let request):
        spawn(stream) { try await handle(request, context) }
      }
    case .serverStreaming(let handle):
      switch stream.takeSingleRequest() {
      case .failure(let error): stream.finish(error.status, error.metadata)
      case .success(let request):
        spawn(stream) {
          try await handle(request, stream, context)
          return nil
        }
      }
    case .clientStreaming(let handle):
      spawn(stream) { try await handle(stream, context) }
    case .bidiStreaming(let handle):
      spawn(stream) {
        try await handle(stream, stream, context)
        return nil
      }
    }
  }

  /// Runs a handler on this connection's event loop, starting synchronously: a handler that
  /// never suspends answers within the same tick, with no task hop at all.
  private func spawn(
    _ stream: ServerStream, _ body: @escaping @Sendable () async throws -> [UInt8]?
  ) {
    stream.task = Task.immediateDetached(executorPreference: executor) {
      let result: Result<[UInt8]?, any Error>
      do {
        result = .success(try await body())
      } catch {
        result = .failure(error)
      }
      stream.complete(with: result)
    }
  }
}
