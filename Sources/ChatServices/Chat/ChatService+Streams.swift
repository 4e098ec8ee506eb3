public import ChatProtos
public import RPCCore

/// The streaming ChatService methods land with the real-time layer: UNIMPLEMENTED until then.
extension ChatService {
  private func pending(_ method: MethodDescriptor) -> RPCError {
    RPCError(code: .unimplemented, message: "\(method.path) is not implemented yet")
  }

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
