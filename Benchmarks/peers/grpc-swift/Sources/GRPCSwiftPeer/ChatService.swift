import GRPCCore

/// bench.v1.Chat over an in-memory table of rooms.
///
/// It conforms to `ServiceProtocol` rather than `SimpleServiceProtocol` for one reason: the
/// simple form of a server-streaming method runs inside the response producer, after the
/// response headers are written, so a client that waited for the headers could still send
/// before the subscription exists. Here Subscribe registers first and returns the response
/// second, so headers mean "subscribed" (the contract of every peer, see ../README.md).
struct ChatService: Bench_V1_Chat.ServiceProtocol {
  private let rooms = Rooms()

  func send(
    request: ServerRequest<Bench_V1_SendRequest>,
    context: ServerContext
  ) async throws -> ServerResponse<Bench_V1_SendReply> {
    let message = request.message
    guard !message.roomID.isEmpty else {
      throw RPCError(code: .invalidArgument, message: "room_id must not be empty")
    }
    return ServerResponse(message: rooms.publish(roomID: message.roomID, body: message.body))
  }

  func subscribe(
    request: ServerRequest<Bench_V1_SubscribeRequest>,
    context: ServerContext
  ) async throws -> StreamingServerResponse<Bench_V1_Event> {
    let roomID = request.message.roomID
    guard !roomID.isEmpty else {
      throw RPCError(code: .invalidArgument, message: "room_id must not be empty")
    }
    // One unbounded queue per subscriber: Send never waits for a slow reader.
    let (events, continuation) = AsyncStream.makeStream(of: Bench_V1_Event.self)
    rooms.subscribe(roomID: roomID, continuation: continuation)
    return StreamingServerResponse { writer in
      // gRPC reports a cancelled RPC (client gone) through this handler, not by cancelling the
      // task; finishing the queue ends the loop and its termination handler unsubscribes.
      try await withRPCCancellationHandler {
        for await event in events {
          try await writer.write(event)
        }
      } onCancelRPC: {
        continuation.finish()
      }
      return [:]
    }
  }
}
