"""The chat and follow services are registered from the contract in Proto/; methods whose
handlers have not landed yet answer UNIMPLEMENTED (after authentication)."""

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.tokens import bearer, mint, new_user_id

# Every RPC that the API contract names; clients are written against these.
CONTRACT = {
    "social.v1.UserService": [
        "GetMe", "UpdateMe", "GetUser", "DeleteUser", "ListNotifications", "MarkNotificationsRead",
    ],
    "social.v1.FollowService": [
        "Follow", "Unfollow", "GetRelationship", "ListFollowers", "ListFollowing",
    ],
    "chat.v1.ChatService": [
        "StartChat", "CreateGroup", "AddMembers", "RemoveMember", "UpdateRoom",
        "UpdateMembership", "GetRoom", "ListRooms", "SendMessage", "GetMessages", "EditMessage",
        "DeleteMessage", "AddReaction", "RemoveReaction", "MarkRead", "SendTyping",
        "SearchMessages", "SubscribeRoom", "SubscribeUser", "SubscribeAllRooms",
    ],
}
SERVER_STREAMING = {"SubscribeRoom", "SubscribeUser", "SubscribeAllRooms"}


@pytest.mark.parametrize("service", sorted(CONTRACT))
def test_contract_has_every_rpc(service):
    methods = protos.service(service).methods_by_name
    assert set(CONTRACT[service]) <= set(methods)
    for name in CONTRACT[service]:
        assert not methods[name].client_streaming
        assert methods[name].server_streaming == (name in SERVER_STREAMING)


def test_streams_sit_behind_the_identity_interceptor(channel):
    """SubscribeRoom needs a token like every chat RPC, then validates its request."""
    method = protos.service("chat.v1.ChatService").methods_by_name["SubscribeRoom"]
    request_class = protos.message(method.input_type.full_name)
    call = channel.unary_stream(
        "/chat.v1.ChatService/SubscribeRoom",
        request_serializer=request_class.SerializeToString,
        response_deserializer=lambda data: data,
    )
    with pytest.raises(grpc.RpcError) as info:
        list(call(request_class(), timeout=10))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as info:
        list(call(request_class(), metadata=bearer(mint(new_user_id())), timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "room_id" in info.value.details()
