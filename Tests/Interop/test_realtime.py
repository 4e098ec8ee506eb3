"""SubscribeRoom and SubscribeUser from grpcio: replay, synced, live events, typing, receipts,
resume, access control, heartbeats. One chatd with short heartbeats for the module."""

import time
import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.streams import Tail
from chatd_interop.users import User


def M(name, **fields):
    return protos.message(name)(**fields)


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    server = ChatdProcess(
        chatd_binary(), tmp_path_factory.mktemp("chatd-rt"),
        extra_args=("--heartbeat-interval", "0.5", "--presence-lease", "1.5"),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ch(rt):
    with grpc.insecure_channel(rt.address) as channel:
        yield channel


def pair(ch):
    ana, ben = User(ch, "Ana"), User(ch, "Ben")
    ana.me(), ben.me()
    room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
    return ana, ben, room


def send(user, room, body):
    return user.chat.SendMessage(M(
        "chat.v1.SendMessageRequest", room_id=room.id, body=body, client_msg_id=str(uuid.uuid4())))


def subscribe_room(user, room, after=0):
    return Tail(user.chat.SubscribeRoom(
        M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=after), timeout=120))


def kinds(events):
    return [e.WhichOneof("event") for e in events]


def test_replay_then_synced_then_live(ch):
    ana, ben, room = pair(ch)
    first = send(ana, room, "before subscribing")
    tail = subscribe_room(ben, room)
    # Writing Ana's message to Ben's stream moves his delivered pointer: a batched write that
    # lands as seq 4, before or after `synced`. Read until both are in.
    seen = []
    while not (any(e.HasField("synced") for e in seen) and any(e.HasField("delivered") for e in seen)):
        seen.append(tail.next())
    replay = [e for e in seen if not e.HasField("delivered")]
    assert kinds(replay) == ["member_joined", "member_joined", "message_created", "synced"]
    assert [e.seq for e in replay[:-1]] == [1, 2, 3]
    assert replay[2].message_created.id == first.id
    assert replay[-1].synced.last_seq in (3, 4) and replay[-1].seq == 0
    [delivered] = [e for e in seen if e.HasField("delivered")]
    assert delivered.seq == 4
    assert delivered.delivered.user_id == ben.id and delivered.delivered.last_delivered_seq == 3

    live = send(ana, room, "after subscribing")
    event = tail.next()
    assert event.HasField("message_created") and event.seq == live.seq == 5
    assert event.message_created.body == "after subscribing"
    assert event.message_created.sender.display_name == "Ana"
    tail.cancel()


def test_resume_after_seq_replays_only_what_was_missed(ch):
    ana, ben, room = pair(ch)
    sent = [send(ana, room, f"m{i}") for i in range(5)]
    tail = subscribe_room(ben, room, after=sent[2].seq)
    replay = tail.until(lambda e: e.HasField("synced"))
    got = [e.message_created.id for e in replay if e.HasField("message_created")]
    # Ben's own delivered events may interleave; the messages are exactly the missed ones.
    assert got == [m.id for m in sent[3:]]
    assert all(e.seq > sent[2].seq for e in replay[:-1])
    tail.cancel()


def test_after_seq_beyond_the_room_is_out_of_range(ch):
    ana, ben, room = pair(ch)
    tail = subscribe_room(ben, room, after=99)
    error = tail.wait_end()
    assert error is not None and error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "beyond" in error.details()


def test_a_stranger_gets_not_found(ch):
    ana, ben, room = pair(ch)
    eve = User(ch, "Eve")
    eve.me()
    error = subscribe_room(eve, room).wait_end()
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_a_service_reads_any_room(ch):
    ana, ben, room = pair(ch)
    bot = User(ch, "Bot", role="service")
    tail = subscribe_room(bot, room)
    assert tail.until(lambda e: e.HasField("synced"))[-1].synced.last_seq == 2
    tail.cancel()


def test_typing_reaches_others_not_the_typist_and_expires(ch):
    ana, ben, room = pair(ch)
    ana_tail, ben_tail = subscribe_room(ana, room), subscribe_room(ben, room)
    ana_tail.until(lambda e: e.HasField("synced"))
    ben_tail.until(lambda e: e.HasField("synced"))

    reply = ana.chat.SendTyping(M("chat.v1.SendTypingRequest", room_id=room.id, typing=True))
    assert reply.expires_at.seconds > time.time()
    typing = ben_tail.next()
    assert typing.HasField("typing") and typing.seq == 0
    assert typing.typing.user_id == ana.id and typing.typing.typing
    assert typing.typing.expires_at.seconds >= int(time.time()) + 4
    # Not renewed: it expires by itself after about 6 s.
    stopped = ben_tail.next(timeout=9)
    assert stopped.HasField("typing") and not stopped.typing.typing
    assert ana_tail.quiet(0.3, skip=("heartbeat", "delivered", "read")) == []
    ana_tail.cancel()
    ben_tail.cancel()


def test_read_and_delivered_receipts(ch):
    ana, ben, room = pair(ch)
    ana_tail = subscribe_room(ana, room)
    ana_tail.until(lambda e: e.HasField("synced"))
    msg = send(ana, room, "did you get this?")
    assert ana_tail.next().HasField("message_created")

    # Ben's live stream receives the message: his delivered pointer moves (batched).
    ben_tail = subscribe_room(ben, room)
    delivered = ana_tail.until(lambda e: e.HasField("delivered"))[-1]
    assert delivered.delivered.user_id == ben.id
    assert delivered.delivered.last_delivered_seq == msg.seq

    ben.chat.MarkRead(M("chat.v1.MarkReadRequest", room_id=room.id, up_to_seq=msg.seq))
    read = ana_tail.until(lambda e: e.HasField("read"))[-1]
    assert read.read.user_id == ben.id and read.read.last_read_seq == msg.seq
    members = {m.user.id: m for m in ana.chat.GetRoom(
        M("chat.v1.GetRoomRequest", room_id=room.id)).room.members}
    assert members[ben.id].last_delivered_seq >= msg.seq
    ana_tail.cancel()
    ben_tail.cancel()


def test_edits_deletes_reactions_and_membership_events(ch):
    owner, ben, carl = User(ch, "Owner"), User(ch, "Ben"), User(ch, "Carl")
    for u in (owner, ben, carl):
        u.me()
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Team",
                                     member_user_ids=[ben.id]))
    tail = subscribe_room(owner, group)
    tail.until(lambda e: e.HasField("synced"))
    msg = send(ben, group, "hello team")
    owner.chat.AddReaction(M("chat.v1.ReactionRequest", message_id=msg.id, emoji="🎉"))
    ben.chat.EditMessage(M("chat.v1.EditMessageRequest", message_id=msg.id, body="hello all"))
    owner.chat.AddMembers(M("chat.v1.AddMembersRequest", room_id=group.id, user_ids=[carl.id]))
    owner.chat.UpdateRoom(M("chat.v1.UpdateRoomRequest", room_id=group.id, title="Team 2"))
    ben.chat.DeleteMessage(M("chat.v1.DeleteMessageRequest", message_id=msg.id))
    owner.chat.RemoveMember(M("chat.v1.RemoveMemberRequest", room_id=group.id, user_id=carl.id))

    wanted = ["message_created", "reaction_changed", "message_updated", "member_joined",
              "room_updated", "message_deleted", "member_left"]
    events = [e for e in tail.until(lambda e: e.HasField("member_left"))
              if e.WhichOneof("event") in wanted]
    assert kinds(events) == wanted
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert events[1].reaction_changed.reactions[0].emoji == "🎉"
    assert events[1].reaction_changed.reactions[0].count == 1
    assert events[2].message_updated.body == "hello all"
    assert events[3].member_joined.user_id == carl.id
    assert events[3].member_joined.member.user.display_name == "Carl"
    assert events[3].member_joined.actor_user_id == owner.id
    # room_updated carries the room as it is when the event is read (Carl may be gone).
    assert events[4].room_updated.title == "Team 2"
    assert {owner.id, ben.id} <= {m.user.id for m in events[4].room_updated.members}
    assert events[5].message_deleted.deleted and events[5].message_deleted.body == ""
    assert events[6].member_left.user_id == carl.id
    tail.cancel()


def test_a_removed_member_s_stream_ends(ch):
    owner, ben = User(ch, "Owner"), User(ch, "Ben")
    owner.me(), ben.me()
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="T",
                                     member_user_ids=[ben.id]))
    tail = subscribe_room(ben, group)
    tail.until(lambda e: e.HasField("synced"))
    owner.chat.RemoveMember(M("chat.v1.RemoveMemberRequest", room_id=group.id, user_id=ben.id))
    error = tail.wait_end()
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_idle_streams_get_heartbeats(ch):
    ana, ben, room = pair(ch)
    tail = subscribe_room(ana, room)
    tail.until(lambda e: e.HasField("synced"))
    beat = tail.next(timeout=5, skip=())
    assert beat.HasField("heartbeat") and beat.seq == 0 and beat.room_id == room.id
    tail.cancel()


def test_subscribe_user_replays_notifications_then_follows_live(ch):
    ana, ben = User(ch, "Ana"), User(ch, "Ben")
    ana.me(), ben.me()
    ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))
    tail = Tail(ben.chat.SubscribeUser(
        M("chat.v1.SubscribeUserRequest", after_seq=0), timeout=120))
    replay = tail.until(lambda e: e.HasField("synced"))
    assert kinds(replay) == ["notification", "synced"]
    assert replay[0].seq == 1 and replay[0].notification.actor.id == ana.id
    assert replay[1].synced.last_seq == 1

    # Live: a new room (room_added and an ADDED_TO_ROOM notification), then activity.
    room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
    # Two paths (the notification log and the live membership) race: either comes first.
    seen = {}
    while len(seen) < 2:
        event = tail.next()
        seen[event.WhichOneof("event")] = event
    assert seen["room_added"].room_added.room.id == room.id
    assert seen["notification"].seq == 2
    assert seen["notification"].notification.room_id == room.id

    msg = send(ana, room, "hi from ana")
    activity = tail.until(lambda e: e.HasField("room_activity"))[-1]
    assert activity.seq == 0 and activity.room_activity.room_id == room.id
    assert activity.room_activity.message.id == msg.id
    assert activity.room_activity.unread_count == 1
    tail.cancel()


def test_subscribe_user_marks_the_user_online_until_it_ends(ch):
    ana, ben, room = pair(ch)
    def online():
        members = ana.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).room.members
        return {m.user.id: m.online for m in members}[ben.id]

    assert not online()
    tail = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"), timeout=120))
    tail.until(lambda e: e.HasField("synced"))
    assert online()
    tail.cancel()
    deadline = time.monotonic() + 5
    while online() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not online()
