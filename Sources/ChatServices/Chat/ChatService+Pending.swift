public import ChatProtos
public import RPCCore

/// The ChatService methods whose handlers have not landed yet: UNIMPLEMENTED, explicitly.
extension ChatService {
  private func pending(_ method: MethodDescriptor) -> RPCError {
    RPCError(code: .unimplemented, message: "\(method.path) is not implemented yet")
  }

  public func addMembers(request: Chat_V1_AddMembersRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  { throw pending(Chat_V1_ChatService.Method.addMembers) }

  public func removeMember(request: Chat_V1_RemoveMemberRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  { throw pending(Chat_V1_ChatService.Method.removeMember) }

  public func updateRoom(request: Chat_V1_UpdateRoomRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  { throw pending(Chat_V1_ChatService.Method.updateRoom) }

  public func updateMembership(request: Chat_V1_UpdateMembershipRequest, context: ServerContext)
    async throws -> Chat_V1_Member
  { throw pending(Chat_V1_ChatService.Method.updateMembership) }

  public func editMessage(request: Chat_V1_EditMessageRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  { throw pending(Chat_V1_ChatService.Method.editMessage) }

  public func deleteMessage(request: Chat_V1_DeleteMessageRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  { throw pending(Chat_V1_ChatService.Method.deleteMessage) }

  public func addReaction(request: Chat_V1_ReactionRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  { throw pending(Chat_V1_ChatService.Method.addReaction) }

  public func removeReaction(request: Chat_V1_ReactionRequest, context: ServerContext)
    async throws -> Chat_V1_Message
  { throw pending(Chat_V1_ChatService.Method.removeReaction) }

  public func sendTyping(request: Chat_V1_SendTypingRequest, context: ServerContext)
    async throws -> Chat_V1_SendTypingResponse
  { throw pending(Chat_V1_ChatService.Method.sendTyping) }

  public func searchMessages(request: Chat_V1_SearchMessagesRequest, context: ServerContext)
    async throws -> Chat_V1_SearchMessagesResponse
  { throw pending(Chat_V1_ChatService.Method.searchMessages) }

  public func subscribeRoom(
    request: Chat_V1_SubscribeRoomRequest, response: RPCWriter<Chat_V1_RoomEvent>,
    context: ServerContext
  ) async throws { throw pending(Chat_V1_ChatService.Method.subscribeRoom) }

  public func subscribeUser(
    request: Chat_V1_SubscribeUserRequest, response: RPCWriter<Chat_V1_UserEvent>,
    context: ServerContext
  ) async throws { throw pending(Chat_V1_ChatService.Method.subscribeUser) }

  public func subscribeAllRooms(
    request: Chat_V1_SubscribeAllRoomsRequest, response: RPCWriter<Chat_V1_RoomEvent>,
    context: ServerContext
  ) async throws { throw pending(Chat_V1_ChatService.Method.subscribeAllRooms) }
}
