public import ChatProtos
import ChatStore
public import RPCCore

extension ChatService {
  public func editMessage(request: Chat_V1_EditMessageRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.messageId, field: "message_id")
    validation.text(request.body, field: "body", limit: Self.maxBodyLength, required: true)
    try validation.check()
    do {
      return Chat_V1_Message(
        try await store.messages.edit(id: request.messageId, user: caller.id, body: request.body))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("message")
    } catch let error as StoreError where error.kind == .permissionDenied {
      throw ServiceError.permissionDenied("only the sender edits a message")
    }
  }

  public func deleteMessage(request: Chat_V1_DeleteMessageRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.messageId, field: "message_id")
    try validation.check()
    do {
      return Chat_V1_Message(
        try await store.messages.delete(
          id: request.messageId, user: caller.id, moderator: caller.role == .admin))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("message")
    } catch let error as StoreError where error.kind == .permissionDenied {
      throw ServiceError.permissionDenied("only the sender or a room owner or admin deletes")
    }
  }

  public func addReaction(request: Chat_V1_ReactionRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  {
    try await react(request, context: context, add: true)
  }

  public func removeReaction(request: Chat_V1_ReactionRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  {
    try await react(request, context: context, add: false)
  }

  private func react(_ request: Chat_V1_ReactionRequest, context: ServerContext, add: Bool)
    async throws -> Chat_V1_Message
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.messageId, field: "message_id")
    validation.emoji(request.emoji, field: "emoji")
    try validation.check()
    do {
      return Chat_V1_Message(
        try await store.messages.react(
          messageID: request.messageId, user: caller.id, emoji: request.emoji, add: add
        ).message)
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("message")
    }
  }
}
