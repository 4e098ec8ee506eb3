"""The authorization matrix: every RPC, streams included (a new RPC without a row fails),
called with no token, an expired token and a wrongly signed token, by a stranger to the room,
a member, an admin and a service principal; and the owner/admin/member rules inside a room."""

import subprocess
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


# --- every RPC, streams included; the service role; roles inside a room --------------------

SERVICES = ("chat.v1.ChatService", "social.v1.UserService", "social.v1.FollowService")
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


# (service, method, request, expected for: stranger, member, admin, service principal)
def stream_cases(w):
    return [
        ("chat.v1.ChatService", "SubscribeRoom", M("chat.v1.SubscribeRoomRequest",
                                                   room_id=w["room"]),
         (NOT_FOUND, OK, NOT_FOUND, OK)),
        ("chat.v1.ChatService", "SubscribeUser", M("chat.v1.SubscribeUserRequest"),
         (OK, OK, OK, OK)),
        ("chat.v1.ChatService", "SubscribeAllRooms", M("chat.v1.SubscribeAllRoomsRequest"),
         (DENIED, DENIED, DENIED, OK)),  # the firehose is for the service role only
    ]


# A `service` principal is a member of nothing: it reads any room (GetRoom, GetMessages,
# SearchMessages, SubscribeRoom, the firehose) and writes to none. Unlisted methods: OK.
SERVICE_ROLE = {
    "GetRoom": OK, "GetMessages": OK, "SearchMessages": OK,
    "SendMessage": NOT_FOUND, "MarkRead": NOT_FOUND, "SendTyping": NOT_FOUND,
    "UpdateMembership": NOT_FOUND, "UpdateRoom": NOT_FOUND, "AddMembers": NOT_FOUND,
    "RemoveMember": NOT_FOUND, "EditMessage": NOT_FOUND, "AddReaction": NOT_FOUND,
    "RemoveReaction": NOT_FOUND, "DeleteMessage": NOT_FOUND,
    "DeleteUser": DENIED,
}


def stream_outcome(channel, service, method, request, metadata):
    """OK once the stream sends its first message (replays end with `synced`)."""
    descriptor = protos.service(service).methods_by_name[method]
    response = protos.message(descriptor.output_type.full_name)
    call = channel.unary_stream(f"/{service}/{method}",
                                request_serializer=type(request).SerializeToString,
                                response_deserializer=response.FromString)(
        request, metadata=metadata, timeout=10)
    try:
        next(call)
        return OK
    except grpc.RpcError as error:
        return error.code()
    finally:
        call.cancel()


def test_the_matrix_has_a_row_for_every_rpc(world):
    """A new RPC without a row here fails: authorization is decided per method."""
    every = {m.name for s in SERVICES for m in protos.service(s).methods}
    rows = [c[1] for c in cases(world) + stream_cases(world)]
    assert len(rows) == len(set(rows)), "a method has two rows"
    assert set(rows) == every, f"no row for {every - set(rows)}; unknown {set(rows) - every}"


def test_streams_refuse_bad_credentials(channel, world):
    for service, method, request, _ in stream_cases(world):
        for label, metadata in BAD_CREDENTIALS.items():
            assert stream_outcome(channel, service, method, request, metadata) == \
                UNAUTHENTICATED, f"{method} with {label}"


def test_stream_matrix(channel, world):
    service_user = User(channel, "Indexer", role="service")
    world = dict(world, service=service_user)
    wrong = {}
    for service, method, request, expected in stream_cases(world):
        got = tuple(stream_outcome(channel, service, method, request, bearer(world[who].token))
                    for who in ("stranger", "member", "admin", "service"))
        if got != expected:
            wrong[method] = (got, expected)
    assert not wrong, wrong


def test_service_role_reads_any_room_and_writes_none(channel, world):
    """Runs before test_matrix changes the room (it removes and deletes its owner)."""
    principal = User(channel, "Indexer", role="service")
    principal.me()
    wrong = {}
    for service, method, request, _ in cases(world):
        got = outcome(channel, service, method, request, bearer(principal.token))
        expected = SERVICE_ROLE.get(method, OK)
        if got != expected:
            wrong[method] = (got, expected)
    assert not wrong, wrong


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)


def test_owner_admin_and_member_inside_a_room(channel, chatd):
    """Owners and room admins add members and rename; owners remove anyone, admins members
    only; everyone may leave; only the sender edits; owners and admins delete others'
    messages. No RPC makes a room admin: the row is promoted in the database."""
    owner, admin, alice, bob, carol, dave = (User(channel, n) for n in
                                             ("Owner", "RoomAdmin", "Alice", "Bob", "Carol",
                                              "Dave"))
    for user in (owner, admin, alice, bob, carol, dave):
        user.me()
    room = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Roles",
                                    member_user_ids=[admin.id, alice.id, bob.id])).id
    psql(chatd.database_url, f"UPDATE room_members SET role = 2 WHERE room_id = '{room}' "
                             f"AND user_id = '{admin.id}'")

    def code(user, method, **fields):
        request_type = {"ReactionRequest": "chat.v1.ReactionRequest"}.get(
            method, f"chat.v1.{method}Request")
        return outcome(channel, "chat.v1.ChatService", method, M(request_type, **fields),
                       bearer(user.token))

    def send(user, body):
        return user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room, body=body,
                                       client_msg_id=uuid.uuid4().hex)).id

    by_owner, by_alice = send(owner, "owner's"), send(alice, "alice's")
    steps = [
        (alice, "AddMembers", dict(room_id=room, user_ids=[carol.id]), DENIED),
        (admin, "AddMembers", dict(room_id=room, user_ids=[carol.id]), OK),
        (alice, "UpdateRoom", dict(room_id=room, title="by alice"), DENIED),
        (admin, "UpdateRoom", dict(room_id=room, title="by admin"), OK),
        (alice, "RemoveMember", dict(room_id=room, user_id=bob.id), DENIED),
        (admin, "RemoveMember", dict(room_id=room, user_id=owner.id), DENIED),
        (admin, "RemoveMember", dict(room_id=room, user_id=bob.id), OK),
        (carol, "RemoveMember", dict(room_id=room, user_id=carol.id), OK),  # leaving
        (owner, "EditMessage", dict(message_id=by_alice, body="owner edits"), DENIED),
        (alice, "DeleteMessage", dict(message_id=by_owner), DENIED),
        (admin, "DeleteMessage", dict(message_id=by_alice), OK),
        (bob, "GetRoom", dict(room_id=room), NOT_FOUND),  # removed: a stranger now
        (owner, "RemoveMember", dict(room_id=room, user_id=admin.id), OK),
        (admin, "AddMembers", dict(room_id=room, user_ids=[dave.id]), NOT_FOUND),
    ]
    wrong = [(u.name, m, f, got, want) for u, m, f, want in steps
             if (got := code(u, m, **f)) != want]
    assert not wrong, wrong
    # Both people of a direct chat are plain members: no one manages it.
    direct = owner.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=alice.id)).id
    assert code(owner, "AddMembers", room_id=direct, user_ids=[bob.id]) == DENIED
    assert code(owner, "RemoveMember", room_id=direct, user_id=alice.id) == \
        grpc.StatusCode.FAILED_PRECONDITION


def test_matrix(channel, world):
    results = {}
    for service, method, request, expected in cases(world):
        got = tuple(outcome(channel, service, method, request, bearer(world[who].token))
                    for who in ("stranger", "member", "admin"))
        results[method] = (got, expected)
    wrong = {m: r for m, r in results.items() if r[0] != r[1]}
    assert not wrong, wrong
