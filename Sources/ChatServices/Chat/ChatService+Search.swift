public import ChatProtos
import ChatStore
import Foundation
public import RPCCore
import StandardProtos

extension ChatService {
  /// Relayed to the room's other subscribers on every instance (never persisted); it expires
  /// by itself unless sent again within the typing lifetime.
  public func sendTyping(request: Chat_V1_SendTypingRequest, context: ServerContext)
    async throws -> Chat_V1_SendTypingResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    try validation.check()
    guard
      try await store.bus.announceTyping(
        roomID: request.roomId, user: caller.id, typing: request.typing)
    else { throw ServiceError.notFound("room") }
    var response = Chat_V1_SendTypingResponse()
    if request.typing {
      response.expiresAt = Google_Protobuf_Timestamp(
        date: Date().addingTimeInterval(realtime.configuration.typingLifetime.timeInterval))
    }
    return response
  }

  public func searchMessages(request: Chat_V1_SearchMessagesRequest, context: ServerContext)
    async throws -> Chat_V1_SearchMessagesResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.text(request.query, field: "query", limit: 200, required: true)
    if !request.roomId.isEmpty { validation.uuid(request.roomId, field: "room_id") }
    let limit = validation.pageSize(request.pageSize)
    let cursor = validation.pageToken(request.pageToken)
    if let cursor, Int(cursor) == nil {
      validation.fail("page_token", "is not a page token this server issued")
    }
    try validation.check()
    // A room's visibility check rides in the search's round trip.
    guard
      let page = try await store.messages.search(
        user: caller.id, query: request.query,
        roomID: request.roomId.isEmpty ? nil : request.roomId,
        asService: caller.role == .service, limit: limit, after: cursor)
    else { throw ServiceError.notFound("room") }
    var response = Chat_V1_SearchMessagesResponse()
    response.messages = page.items.map(Chat_V1_Message.init)
    response.nextPageToken = page.nextCursor ?? ""
    return response
  }
}
