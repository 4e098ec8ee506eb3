"""chat.v1.ChatService through grpcio: direct chats, groups, messages, history, read state,
and who may see what (non-members get NOT_FOUND)."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User, violations


def M(name, **fields):
    return protos.message(name)(**fields)


def code_of(call, request) -> tuple[grpc.StatusCode, list]:
    with pytest.raises(grpc.RpcError) as info:
        call(request)
    return info.value.code(), violations(info.value)


@pytest.fixture
def alice(channel):
    user = User(channel, "Alice")
    user.me()
    return user


@pytest.fixture
def bob(channel):
    user = User(channel, "Bob")
    user.me()
    return user


@pytest.fixture
def stranger(channel):
    user = User(channel, "Stranger")
    user.me()
    return user


def start(a, b):
    return a.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=b.id))


def send(user, room_id, body, client_id=None, reply_to=""):
    return user.chat.SendMessage(M(
        "chat.v1.SendMessageRequest", room_id=room_id, body=body,
        client_msg_id=client_id or uuid.uuid4().hex, reply_to_message_id=reply_to))


def test_start_chat_is_get_or_create(alice, bob):
    room = start(alice, bob)
    assert room.kind == 1  # ROOM_KIND_DIRECT
    assert sorted(m.user.id for m in room.members) == sorted([alice.id, bob.id])
    assert {m.user.id: m.user.display_name for m in room.members}[bob.id] == "Bob"
    assert start(bob, alice).id == room.id


def test_concurrent_start_chat_returns_one_room(channel, alice, bob):
    with ThreadPoolExecutor(max_workers=6) as pool:
        rooms = list(pool.map(lambda i: start(alice if i % 2 else bob, bob if i % 2 else alice),
                              range(6)))
    assert len({room.id for room in rooms}) == 1


def test_start_chat_refuses_self_and_unknown_peers(alice):
    code, fields = code_of(alice.chat.StartChat, M("chat.v1.StartChatRequest",
                                                   peer_user_id=alice.id))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields[0][0] == "peer_user_id"
    code, _ = code_of(alice.chat.StartChat, M("chat.v1.StartChatRequest",
                                              peer_user_id="nobody-at-all"))
    assert code == grpc.StatusCode.NOT_FOUND
    code, fields = code_of(alice.chat.StartChat, M("chat.v1.StartChatRequest"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == [("peer_user_id", "is required")]


def test_create_group(alice, bob, stranger):
    group = alice.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="  Trip  ",
                                     member_user_ids=[bob.id, bob.id, alice.id]))
    assert group.kind == 2 and group.title == "Trip"
    roles = {m.user.id: m.role for m in group.members}
    assert roles == {alice.id: 1, bob.id: 3}  # OWNER, MEMBER
    code, _ = code_of(stranger.chat.GetRoom, M("chat.v1.GetRoomRequest", room_id=group.id))
    assert code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("fields, field", [
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "ok", "member_user_ids": ["bad id"]}, "member_user_ids[0]"),
    ({"title": "ok", "member_user_ids": [f"user-{i}" for i in range(500)]}, "member_user_ids"),
])
def test_create_group_validation(alice, fields, field):
    code, found = code_of(alice.chat.CreateGroup, M("chat.v1.CreateGroupRequest", **fields))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in found] == [field]


def test_create_group_with_an_unknown_member(alice):
    code, _ = code_of(alice.chat.CreateGroup, M("chat.v1.CreateGroupRequest", title="t",
                                                member_user_ids=["nobody-at-all"]))
    assert code == grpc.StatusCode.NOT_FOUND


def test_send_message_is_idempotent_and_members_only(alice, bob, stranger):
    room = start(alice, bob)
    first = send(alice, room.id, "hello\tthere\n", client_id="c-1")
    # The room's seq counts every event: the two member_joined events came first.
    assert (first.room_id, first.seq, first.sender_id, first.body) == (
        room.id, room.last_seq + 1, alice.id, "hello\tthere\n")
    assert first.sender.display_name == "Alice" and not first.deleted
    retry = send(alice, room.id, "hello again", client_id="c-1")
    assert (retry.id, retry.seq, retry.body) == (first.id, first.seq, "hello\tthere\n")
    reply = send(bob, room.id, "hi", reply_to=first.id)
    assert reply.seq == first.seq + 1 and reply.reply_to.id == first.id and reply.reply_to.body.startswith("hello")

    code, _ = code_of(lambda r: send(stranger, room.id, "let me in"), None)
    assert code == grpc.StatusCode.NOT_FOUND
    other = start(alice, stranger)
    code, found = code_of(lambda r: send(alice, other.id, "x", reply_to=first.id), None)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and found[0][0] == "reply_to_message_id"


def test_concurrent_sends_across_rooms_keep_each_senders_order(channel):
    """Sends to many rooms at once share transactions (the group commit spans rooms): every
    send lands once, each room's seqs stay gap-free, each sender's messages keep the order
    they were sent in, and a retry racing its original returns the original."""
    pairs = [(User(channel, f"A{i}"), User(channel, f"B{i}")) for i in range(8)]
    for a, b in pairs:
        a.me(), b.me()
    rooms = [start(a, b) for a, b in pairs]
    # 6 sends and their retries per user: within the send class's burst of 20.
    per_sender = 6

    def sender(room, user):
        sent = []
        for i in range(per_sender):
            client_id = f"{user.id}-{i}"
            with ThreadPoolExecutor(2) as twice:  # the send and a retry of it, at once
                first, retry = twice.map(
                    lambda _: send(user, room.id, f"{user.id} {i}", client_id=client_id),
                    range(2))
            assert first.id == retry.id and first.seq == retry.seq
            sent.append(first)
        return sent

    jobs = [(room, user) for room, pair in zip(rooms, pairs) for user in pair]
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: sender(*job), jobs))

    for (room, user), sent in zip(jobs, results):
        assert [m.body for m in sent] == [f"{user.id} {i}" for i in range(per_sender)]
        assert [m.seq for m in sent] == sorted(m.seq for m in sent)
    for room, (a, _) in zip(rooms, pairs):
        history = a.chat.GetMessages(
            M("chat.v1.GetMessagesRequest", room_id=room.id, limit=100)).messages
        # Two member_joined events took seqs 1 and 2; the messages follow without a gap.
        assert [m.seq for m in history] == list(range(3, 3 + 2 * per_sender))
        sent_here = [m.id for (r, _), sent in zip(jobs, results) if r.id == room.id for m in sent]
        assert sorted(m.id for m in history) == sorted(sent_here)


@pytest.mark.parametrize("body, client_id, field", [
    ("", "c", "body"),
    (" \n\t ", "c", "body"),
    ("x" * 4001, "c", "body"),
    ("bell \x07", "c", "body"),
    ("ok", "", "client_msg_id"),
    ("ok", "x" * 65, "client_msg_id"),
])
def test_send_message_validation(alice, bob, body, client_id, field):
    room = start(alice, bob)
    request = M("chat.v1.SendMessageRequest", room_id=room.id, body=body, client_msg_id=client_id)
    code, found = code_of(alice.chat.SendMessage, request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in found] == [field]


def test_send_message_at_the_length_limit(alice, bob):
    room = start(alice, bob)
    assert send(alice, room.id, "é" * 4000).body == "é" * 4000


def test_get_messages_pages(alice, bob, stranger):
    room = start(alice, bob)
    seqs = [send(alice if i % 2 else bob, room.id, f"m{i}").seq for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    req = lambda **f: M("chat.v1.GetMessagesRequest", room_id=room.id, **f)
    latest = bob.chat.GetMessages(req(limit=2))
    assert [m.body for m in latest.messages] == ["m3", "m4"] and latest.has_more
    before = bob.chat.GetMessages(req(limit=2, before_seq=seqs[3]))
    assert [m.seq for m in before.messages] == seqs[1:3] and before.has_more
    after = bob.chat.GetMessages(req(limit=10, after_seq=seqs[1]))
    assert [m.seq for m in after.messages] == seqs[2:] and not after.has_more
    everything = bob.chat.GetMessages(req())
    assert [m.seq for m in everything.messages] == seqs and not everything.has_more

    code, _ = code_of(stranger.chat.GetMessages, req())
    assert code == grpc.StatusCode.NOT_FOUND
    code, found = code_of(bob.chat.GetMessages, req(before_seq=3, after_seq=1))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and found[0][0] == "after_seq"
    code, found = code_of(bob.chat.GetMessages, req(limit=201))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and found[0][0] == "limit"


def test_get_room_and_mark_read(channel, alice, bob, stranger):
    room = start(alice, bob)
    seqs = [send(alice, room.id, f"m{i}").seq for i in range(3)]
    summary = bob.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id))
    assert summary.room.id == room.id and summary.room.last_seq == seqs[-1]
    assert summary.last_message.body == "m2" and summary.unread_count == 3
    assert alice.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).unread_count == 0

    mark = lambda seq: bob.chat.MarkRead(
        M("chat.v1.MarkReadRequest", room_id=room.id, up_to_seq=seq))
    read = mark(seqs[1])
    assert (read.last_read_seq, read.unread_count) == (seqs[1], 1)
    back = mark(seqs[0])  # never backwards
    assert (back.last_read_seq, back.unread_count) == (seqs[1], 1)
    # Clamped to the room's last seq (read receipts are room events too, so it passed m2's).
    past = mark(seqs[-1] + 100)
    assert seqs[-1] < past.last_read_seq < seqs[-1] + 100 and past.unread_count == 0

    code, _ = code_of(stranger.chat.GetRoom, M("chat.v1.GetRoomRequest", room_id=room.id))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_of(stranger.chat.MarkRead, M("chat.v1.MarkReadRequest", room_id=room.id))
    assert code == grpc.StatusCode.NOT_FOUND
    code, found = code_of(bob.chat.GetRoom, M("chat.v1.GetRoomRequest", room_id="not-a-uuid"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and found[0][0] == "room_id"

    service = User(channel, "Indexer", role="service")
    seen = service.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id))
    assert seen.room.id == room.id
    history = service.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id))
    assert [m.body for m in history.messages] == ["m0", "m1", "m2"]


def test_list_rooms_by_activity_with_pages(channel, alice):
    peers = [User(channel, f"Peer {i}") for i in range(3)]
    rooms = []
    for peer in peers:
        peer.me()
        rooms.append(start(alice, peer))
    send(peers[0], rooms[0].id, "latest")
    request = lambda **f: M("chat.v1.ListRoomsRequest", **f)
    first = alice.chat.ListRooms(request(page_size=2))
    assert [s.room.id for s in first.rooms] == [rooms[0].id, rooms[2].id]
    assert first.rooms[0].last_message.body == "latest" and first.rooms[0].unread_count == 1
    assert first.next_page_token
    rest = alice.chat.ListRooms(request(page_size=2, page_token=first.next_page_token))
    assert [s.room.id for s in rest.rooms] == [rooms[1].id] and rest.next_page_token == ""
    assert len(rest.rooms[0].room.members) == 2
