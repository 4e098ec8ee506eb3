public import RPCCore

extension GRPCClient {
  /// A server-streaming call whose response messages go to `onMessage` on the connection's
  /// event loop as they arrive, with no task resumed per message: for load generators and
  /// relays that do little per message. `onMessage` must not block (the connection's other
  /// calls wait meanwhile) and gets each message still encoded.
  ///
  /// Returns when the server ends the stream with OK; throws its status otherwise, or a
  /// CANCELLED error when the task is cancelled.
  public func serverStreaming(
    _ method: MethodDescriptor, request: [UInt8], options: CallOptions = .defaults,
    onMessage: @escaping @Sendable ([UInt8]) -> Void
  ) async throws {
    let stream = try await openStream(method, options: options)
    try await withTaskCancellationHandler {
      try await stream.eventLoop.submit { stream.tap(onMessage) }.get()
      try await stream.write(request)
      stream.finishSending()
      // Messages go to the tap: only the end of the stream comes here.
      while try await stream.next() != nil {}
    } onCancel: {
      stream.eventLoop.execute {
        stream.fail(RPCError(code: .cancelled, message: "the call was cancelled"))
      }
    }
  }
}
