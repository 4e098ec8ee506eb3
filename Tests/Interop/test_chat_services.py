"""The chat and follow services are registered from the contract in Proto/ (their handlers
land with later issues). Until then each answers UNIMPLEMENTED."""

import grpc
import pytest

from chatd_interop import protos

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


@pytest.mark.parametrize(
    "service, method",
    [
        ("chat.v1.ChatService", "GetRoom"),
        ("social.v1.UserService", "GetMe"),
        ("social.v1.FollowService", "GetRelationship"),
    ],
)
def test_service_answers_unimplemented_for_now(channel, service, method):
    call, request_class = protos.unary_method(channel, service, method)
    with pytest.raises(grpc.RpcError) as info:
        call(request_class(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
