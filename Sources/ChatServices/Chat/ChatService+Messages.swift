public import ChatProtos
import ChatStore
import Foundation
public import RPCCore

extension ChatService {
  static let maxBodyLength = 4000

  public func sendMessage(request: Chat_V1_SendMessageRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    let clientID = request.clientMsgId
    if clientID.isEmpty {
      validation.fail("client_msg_id", "is required")
    } else if clientID.count > 64 || !Validation.isWellFormedUserID(clientID) {
      validation.fail("client_msg_id", "must be 1 to 64 characters without spaces")
    }
    validation.text(request.body, field: "body", limit: Self.maxBodyLength, required: true)
    if !request.replyToMessageId.isEmpty {
      validation.uuid(request.replyToMessageId, field: "reply_to_message_id")
    }
    try validation.check()
    do {
      let (message, _) = try await store.messages.send(
        roomID: request.roomId, sender: caller.id, clientMsgID: clientID, body: request.body,
        replyTo: request.replyToMessageId.isEmpty ? nil : request.replyToMessageId)
      return Chat_V1_Message(message)
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("room")
    } catch let error as StoreError where error.kind == .invalidInput {
      throw ValidationError(field: "reply_to_message_id", "is not a message of this room")
    }
  }

  public func getMessages(request: Chat_V1_GetMessagesRequest, context: ServerContext)
    async throws -> Chat_V1_GetMessagesResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    let limit = validation.pageSize(request.limit, field: "limit")
    if request.beforeSeq != nil && request.afterSeq != nil {
      validation.fail("after_seq", "must not be set together with before_seq")
    }
    try validation.check()
    // The visibility check rides in the page's round trip.
    guard
      let (messages, hasMore) = try await store.messages.visiblePage(
        roomID: request.roomId, viewer: caller.id, asService: caller.role == .service,
        beforeSeq: request.beforeSeq.map { Int64(clamping: $0) },
        afterSeq: request.afterSeq.map { Int64(clamping: $0) }, limit: limit)
    else { throw ServiceError.notFound("room") }
    var response = Chat_V1_GetMessagesResponse()
    response.messages = messages.map(Chat_V1_Message.init)
    response.hasMore = hasMore
    return response
  }

  public func markRead(request: Chat_V1_MarkReadRequest, context: ServerContext) async throws
    -> Chat_V1_MarkReadResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    try validation.check()
    do {
      let (lastRead, unread) = try await store.rooms.markRead(
        roomID: request.roomId, user: caller.id, upTo: Int64(clamping: request.upToSeq))
      var response = Chat_V1_MarkReadResponse()
      response.lastReadSeq = UInt64(max(0, lastRead))
      response.unreadCount = UInt32(clamping: unread)
      return response
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("room")
    }
  }

}
