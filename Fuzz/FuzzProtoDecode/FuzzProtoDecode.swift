import ChatProtos
import FuzzSupport
import ProtoBridge
import StandardProtos

/// Every request type a client can send to the chat and social services (and health), decoded
/// through protobuf-c and bridged to Swift. The first byte picks the type.
let requestTypes: [any ProtoMessage.Type] = [
  Chat_V1_AddMembersRequest.self, Chat_V1_CreateGroupRequest.self,
  Chat_V1_DeleteMessageRequest.self, Chat_V1_EditMessageRequest.self,
  Chat_V1_GetMessagesRequest.self, Chat_V1_GetRoomRequest.self, Chat_V1_ListRoomsRequest.self,
  Chat_V1_MarkReadRequest.self, Chat_V1_ReactionRequest.self, Chat_V1_RemoveMemberRequest.self,
  Chat_V1_SearchMessagesRequest.self, Chat_V1_SendMessageRequest.self,
  Chat_V1_SendTypingRequest.self, Chat_V1_StartChatRequest.self,
  Chat_V1_SubscribeAllRoomsRequest.self, Chat_V1_SubscribeRoomRequest.self,
  Chat_V1_SubscribeUserRequest.self, Chat_V1_UpdateMembershipRequest.self,
  Chat_V1_UpdateRoomRequest.self, Social_V1_DeleteUserRequest.self, Social_V1_FollowRequest.self,
  Social_V1_GetMeRequest.self, Social_V1_GetRelationshipRequest.self,
  Social_V1_GetUserRequest.self, Social_V1_ListFollowsRequest.self,
  Social_V1_ListNotificationsRequest.self, Social_V1_MarkNotificationsReadRequest.self,
  Social_V1_UnfollowRequest.self, Social_V1_UpdateMeRequest.self,
  Grpc_Health_V1_HealthCheckRequest.self,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtoDecode(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let type = requestTypes[Int(input.byte()) % requestTypes.count]
  roundTrip(type, input.rest())
  return 0
}

/// Whatever decodes must encode, and that encoding must decode to the same encoding again
/// (unknown fields included): the bridge neither loses nor invents data.
func roundTrip<Message: ProtoMessage>(_: Message.Type, _ bytes: [UInt8]) {
  guard let message = try? Message(wireBytes: bytes) else { return }
  let encoded = message.wireBytes()
  guard let again = try? Message(wireBytes: encoded) else {
    preconditionFailure("\(Message.self): a decoded message encodes to undecodable bytes")
  }
  precondition(again.wireBytes() == encoded, "\(Message.self): the encoding is not stable")
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzProtoDecode_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzProtoDecode)
}
