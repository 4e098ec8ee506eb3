"""Nothing lost, nothing repeated: subscribers that drop and resume while writers send, the
firehose resuming under concurrent commits, a reader that stalls through a flood, and two
chatd processes on one database."""

import random
import subprocess
import threading
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
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-resume"),
                          extra_args=("--rate-limit", "off", "--heartbeat-interval", "1"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ch(rt):
    with grpc.insecure_channel(rt.address) as channel:
        yield channel


def group_of(ch, writers):
    owner = writers[0]
    for user in writers:
        user.me()
    return owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="load",
                                    member_user_ids=[u.id for u in writers[1:]]))


def write(user, room, count, sent):
    for i in range(count):
        msg = user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                                      body=f"{user.name} {i}", client_msg_id=str(uuid.uuid4())))
        sent.append(msg.id)


def all_messages(user, room):
    ids, after = [], 0
    while True:
        page = user.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id,
                                       after_seq=after, limit=200))
        ids += [m.id for m in page.messages]
        if not page.has_more:
            return ids
        after = page.messages[-1].seq


def test_subscribers_that_drop_and_resume_see_exactly_the_database_sequence(ch):
    writers = [User(ch, f"Writer{i}") for i in range(4)]
    room = group_of(ch, writers)
    service = User(ch, "Resumer", role="service")
    total_per_writer = 500
    done = threading.Event()
    results = {}

    def subscriber(index):
        rng = random.Random(index)
        last, seen, messages, resumes = 0, [], [], 0
        final = None
        while True:
            tail = Tail(service.chat.SubscribeRoom(
                M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=last), timeout=120))
            budget = rng.randint(1, 300)
            try:
                while budget > 0:
                    if done.is_set() and final is None:
                        final = writers[0].chat.GetRoom(
                            M("chat.v1.GetRoomRequest", room_id=room.id)).room.last_seq
                    if final is not None and last >= final:
                        break
                    event = tail.next(timeout=20, skip=("heartbeat", "synced", "typing"))
                    seen.append(event.seq)
                    last = event.seq
                    if event.HasField("message_created"):
                        messages.append(event.message_created.id)
                    budget -= 1
            finally:
                tail.cancel()
            if final is not None and last >= final:
                results[index] = (seen, messages, resumes)
                return
            resumes += 1

    threads = [threading.Thread(target=subscriber, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    sent = [[] for _ in writers]
    writer_threads = [threading.Thread(target=write, args=(w, room, total_per_writer, sent[i]))
                      for i, w in enumerate(writers)]
    for t in writer_threads:
        t.start()
    for t in writer_threads:
        t.join()
    done.set()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 20, "some subscribers did not finish"

    database = all_messages(writers[0], room)
    assert len(database) == 4 * total_per_writer
    last_seq = writers[0].chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).room.last_seq
    for index, (seen, messages, resumes) in results.items():
        assert seen == list(range(1, last_seq + 1)), f"subscriber {index}: gap or duplicate"
        assert messages == database, f"subscriber {index}: messages differ from the database"
    assert sum(r for _, _, r in results.values()) >= 20, "subscribers resumed"


def test_the_firehose_resumes_without_loss_or_repeat_under_concurrent_commits(ch):
    service = User(ch, "Firehose", role="service")
    writers = [User(ch, f"Fire{i}") for i in range(4)]
    rooms = [group_of(ch, writers) for _ in range(3)]
    room_ids = [r.id for r in rooms]
    stop = threading.Event()

    def writer(user, seed):
        rng = random.Random(seed)
        while not stop.is_set():
            room = rng.choice(rooms)
            user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id, body="x",
                                    client_msg_id=str(uuid.uuid4())))

    threads = [threading.Thread(target=writer, args=(w, i)) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    rng = random.Random(7)
    cursor, got = "", []
    deadline = time.monotonic() + 6
    try:
        while time.monotonic() < deadline:
            tail = Tail(service.chat.SubscribeAllRooms(
                M("chat.v1.SubscribeAllRoomsRequest", cursor=cursor, room_ids=room_ids),
                timeout=60))
            for _ in range(rng.randint(5, 120)):
                event = tail.next(timeout=20, skip=("heartbeat", "synced"))
                got.append((event.room_id, event.seq))
                assert event.cursor, "every firehose event carries a cursor"
                cursor = event.cursor
            tail.cancel()
    finally:
        stop.set()
        for t in threads:
            t.join()
    # Drain what committed after the last resume.
    tail = Tail(service.chat.SubscribeAllRooms(
        M("chat.v1.SubscribeAllRoomsRequest", cursor=cursor, room_ids=room_ids), timeout=60))
    for event in tail.until(lambda e: e.HasField("synced"), timeout=20, skip=("heartbeat",)):
        if not event.HasField("synced"):
            got.append((event.room_id, event.seq))
    tail.cancel()

    assert len(got) == len(set(got)), "an event was repeated"
    for room in rooms:
        last = service.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).room.last_seq
        seqs = [seq for rid, seq in got if rid == room.id]
        # The firehose started after the room's creation events; from there on, all of them
        # in order.
        assert seqs == list(range(seqs[0], last + 1)), f"room {room.id}: lost or out of order"


def bulk_send(database_url, room_id, sender, count, batch=5000):
    """Appends `count` messages straight into the database, `batch` per transaction, set-based
    (the rows chat_append_message writes, without its per-message checks): a flood faster
    than any RPC client, announced like the server announces, once per transaction."""
    for start in range(0, count, batch):
        n = min(batch, count - start)
        sql = f"""
            BEGIN;
            SELECT chat_lock_room('{room_id}');
            WITH r AS (
              UPDATE rooms SET last_seq = last_seq + {n}, last_activity_at = now()
              WHERE id = '{room_id}' RETURNING last_seq - {n} AS base),
            m AS (
              INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body)
              SELECT gen_random_uuid(), '{room_id}', r.base + g, '{sender}',
                'bulk-' || (r.base + g), 'flood ' || g
              FROM r, generate_series(1, {n}) g RETURNING id, seq)
            INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
            SELECT '{room_id}', m.seq, 1, '{sender}', m.id FROM m;
            SELECT pg_notify('chat_room_events',
              '{room_id}:' || (SELECT last_seq FROM rooms WHERE id = '{room_id}'));
            COMMIT;"""
        subprocess.run(["psql", database_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)


def test_a_stalled_reader_falls_back_to_the_database_and_loses_nothing(rt, ch):
    ana, ben = User(ch, "Ana"), User(ch, "Ben")
    ana.me(), ben.me()
    room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
    total = 50_000

    # The slow reader: its own connection, read nothing until the flood is over.
    slow_channel = grpc.insecure_channel(rt.address)
    slow_stub = protos.stub(slow_channel, "chat.v1.ChatService")
    slow_call = slow_stub.SubscribeRoom(
        M("chat.v1.SubscribeRoomRequest", room_id=room.id),
        metadata=(("authorization", f"Bearer {ben.token}"),), timeout=300)
    fast = Tail(ana.chat.SubscribeRoom(M("chat.v1.SubscribeRoomRequest", room_id=room.id),
                                       timeout=300))
    fast.until(lambda e: e.HasField("synced"))
    rss_before = rt.rss_kib()

    bulk_send(rt.database_url, room.id, ana.id, total)
    fast_messages = 0
    while fast_messages < total:
        if fast.next(timeout=60, skip=("heartbeat", "synced", "delivered", "read")
                     ).HasField("message_created"):
            fast_messages += 1
    # Live traffic still flows promptly to the reader that keeps up.
    probe = ana.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id, body="probe",
                                   client_msg_id=str(uuid.uuid4())))
    assert fast.until(lambda e: e.HasField("message_created"), timeout=10)[-1] \
        .message_created.id == probe.id
    growth_mib = (rt.rss_kib() - rss_before) / 1024
    assert growth_mib < 256, f"memory grew by {growth_mib:.0f} MiB during the flood"

    # The slow reader now reads: everything, in order, once.
    seqs = []
    for event in slow_call:
        if event.seq:
            seqs.append(event.seq)
        if event.HasField("message_created") and event.message_created.id == probe.id:
            break
    slow_call.cancel()
    slow_channel.close()
    fast.cancel()
    assert seqs == list(range(1, seqs[-1] + 1))
    assert seqs[-1] >= total + 3


def test_two_instances_share_events_and_presence(rt, ch, tmp_path):
    other = ChatdProcess(chatd_binary(), tmp_path / "second",
                         extra_args=("--presence-lease", "1.5"),
                         extra_env={"CHATD_DATABASE_URL": rt.database_url})
    other.start()
    try:
        with grpc.insecure_channel(other.address) as ch2:
            ana, ben = User(ch, "Ana"), User(ch2, "Ben")
            ana.me(), ben.me()
            room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
            # Ben follows the room on the second instance; Ana sends through the first.
            tail = Tail(ben.chat.SubscribeRoom(M("chat.v1.SubscribeRoomRequest", room_id=room.id),
                                               timeout=60))
            tail.until(lambda e: e.HasField("synced"))
            sent = [ana.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                                           body=f"cross {i}", client_msg_id=str(uuid.uuid4())))
                    for i in range(20)]
            got = [e.message_created.id for e in
                   tail.until(lambda e: e.HasField("message_created")
                              and e.message_created.id == sent[-1].id)
                   if e.HasField("message_created")]
            assert got == [m.id for m in sent]
            tail.cancel()

            def ben_online():
                members = ana.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).room.members
                return {m.user.id: m.online for m in members}[ben.id]

            user_stream = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"),
                                                      timeout=60))
            user_stream.until(lambda e: e.HasField("synced"))
            assert ben_online(), "online as seen from the other instance"
            other.kill()
            killed_at = time.monotonic()
            while ben_online():
                assert time.monotonic() - killed_at < 4, "still online well past the lease"
                time.sleep(0.1)
    finally:
        other.kill()
