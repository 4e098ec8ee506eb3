"""The authorization matrix: every unary RPC called with no token, an expired token, a wrongly
signed token, by a stranger to the room, by a member and by an admin."""

import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.tokens import bearer, mint
from chatd_interop.users import User

OK = grpc.StatusCode.OK
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


def M(name, **fields):
    return protos.message(name)(**fields)


@pytest.fixture(scope="module")
def world(channel):
    """A group (owner, member), a message of the owner's in it, a stranger and an admin."""
    owner, member, stranger, admin = (User(channel, n, role="admin" if n == "Admin" else None)
                                      for n in ("Owner", "Member", "Stranger", "Admin"))
    for user in (owner, member, stranger, admin):
        user.me()
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Matrix",
                                     member_user_ids=[member.id]))
    message = owner.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=group.id,
                                       client_msg_id="m-1", body="hello matrix"))
    return dict(owner=owner, member=member, stranger=stranger, admin=admin, room=group.id,
                message=message.id)


# (service, method, request builder, expected code for: stranger, member, admin)
def cases(w):
    room, message = w["room"], w["message"]
    return [
        ("chat.v1.ChatService", "GetRoom", M("chat.v1.GetRoomRequest", room_id=room),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "GetMessages", M("chat.v1.GetMessagesRequest", room_id=room),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "SendMessage",
         M("chat.v1.SendMessageRequest", room_id=room, client_msg_id=uuid.uuid4().hex, body="x"),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "MarkRead", M("chat.v1.MarkReadRequest", room_id=room),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "SendTyping", M("chat.v1.SendTypingRequest", room_id=room),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "UpdateMembership",
         M("chat.v1.UpdateMembershipRequest", room_id=room, muted=False),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "UpdateRoom", M("chat.v1.UpdateRoomRequest", room_id=room,
                                                title="Renamed"),
         (NOT_FOUND, DENIED, NOT_FOUND)),
        ("chat.v1.ChatService", "AddMembers", M("chat.v1.AddMembersRequest", room_id=room,
                                                user_ids=[w["stranger"].id]),
         (NOT_FOUND, DENIED, NOT_FOUND)),
        ("chat.v1.ChatService", "RemoveMember", M("chat.v1.RemoveMemberRequest", room_id=room,
                                                  user_id=w["owner"].id),
         (NOT_FOUND, DENIED, OK)),  # admins moderate any room
        ("chat.v1.ChatService", "EditMessage", M("chat.v1.EditMessageRequest",
                                                 message_id=message, body="edited"),
         (NOT_FOUND, DENIED, NOT_FOUND)),
        ("chat.v1.ChatService", "AddReaction", M("chat.v1.ReactionRequest", message_id=message,
                                                 emoji="👍"),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "RemoveReaction", M("chat.v1.ReactionRequest",
                                                    message_id=message, emoji="👍"),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "SearchMessages", M("chat.v1.SearchMessagesRequest",
                                                    query="hello", room_id=room),
         (NOT_FOUND, OK, NOT_FOUND)),
        ("chat.v1.ChatService", "ListRooms", M("chat.v1.ListRoomsRequest"), (OK, OK, OK)),
        ("chat.v1.ChatService", "StartChat",
         M("chat.v1.StartChatRequest", peer_user_id=w["owner"].id), (OK, OK, OK)),
        ("chat.v1.ChatService", "CreateGroup", M("chat.v1.CreateGroupRequest", title="Mine"),
         (OK, OK, OK)),
        ("social.v1.UserService", "GetMe", M("social.v1.GetMeRequest"), (OK, OK, OK)),
        ("social.v1.UserService", "UpdateMe", M("social.v1.UpdateMeRequest"), (OK, OK, OK)),
        ("social.v1.UserService", "GetUser", M("social.v1.GetUserRequest",
                                               user_id=w["owner"].id), (OK, OK, OK)),
        ("social.v1.UserService", "ListNotifications", M("social.v1.ListNotificationsRequest"),
         (OK, OK, OK)),
        ("social.v1.UserService", "MarkNotificationsRead",
         M("social.v1.MarkNotificationsReadRequest", up_to_seq=1), (OK, OK, OK)),
        ("social.v1.FollowService", "GetRelationship",
         M("social.v1.GetRelationshipRequest", user_id=w["owner"].id), (OK, OK, OK)),
        ("social.v1.FollowService", "ListFollowers",
         M("social.v1.ListFollowsRequest", user_id=w["owner"].id), (OK, OK, OK)),
        ("social.v1.FollowService", "ListFollowing", M("social.v1.ListFollowsRequest"),
         (OK, OK, OK)),
        ("social.v1.FollowService", "Follow", M("social.v1.FollowRequest",
                                                user_id=w["owner"].id), (OK, OK, OK)),
        ("social.v1.FollowService", "Unfollow", M("social.v1.UnfollowRequest",
                                                  user_id=w["owner"].id), (OK, OK, OK)),
        # Last: deleting. Only the sender, room owners and admins delete; only the user
        # themselves and admins delete a user.
        ("chat.v1.ChatService", "DeleteMessage", M("chat.v1.DeleteMessageRequest",
                                                   message_id=message),
         (NOT_FOUND, DENIED, OK)),
        ("social.v1.UserService", "DeleteUser", M("social.v1.DeleteUserRequest",
                                                  user_id=w["owner"].id), (DENIED, DENIED, OK)),
    ]


def outcome(channel, service, method, request, metadata):
    call, _ = protos.unary_method(channel, service, method)
    try:
        call(request, metadata=metadata, timeout=10)
        return OK
    except grpc.RpcError as error:
        return error.code()


BAD_CREDENTIALS = {
    "no token": (),
    "expired": bearer(mint("Owner-x", ttl=-3600)),
    "wrongly signed": bearer(mint("Owner-x", secret="not-the-servers-secret-0123456789abcdef")),
}


def test_every_rpc_refuses_bad_credentials(channel, world):
    for service, method, request, _ in cases(world):
        for label, metadata in BAD_CREDENTIALS.items():
            assert outcome(channel, service, method, request, metadata) == \
                grpc.StatusCode.UNAUTHENTICATED, f"{method} with {label}"


def test_matrix(channel, world):
    results = {}
    for service, method, request, expected in cases(world):
        got = tuple(outcome(channel, service, method, request, bearer(world[who].token))
                    for who in ("stranger", "member", "admin"))
        results[method] = (got, expected)
    wrong = {m: r for m, r in results.items() if r[0] != r[1]}
    assert not wrong, wrong
