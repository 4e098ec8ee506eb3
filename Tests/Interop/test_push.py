"""The OneSignal bridge against a fake OneSignal that is a real HTTP server: the exact request,
who gets a push and who does not, retries with one idempotency key, final failures, a crash
between commit and send, several instances, and no push rows at all when push is off."""

import re
import subprocess
import time
import urllib.request
import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.onesignal import Answer, FakeOneSignal
from chatd_interop.pki import PKI
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.streams import Tail
from chatd_interop.users import User

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "os_v2_app_test_key_never_logged"
GRACE = 1.5


def M(name, **fields):
    return protos.message(name)(**fields)


def push_args(fake_url: str, *extra: str) -> tuple[str, ...]:
    return ("--onesignal-app-id", APP_ID, "--onesignal-api-key", API_KEY,
            "--onesignal-api-url", fake_url, "--onesignal-ios-sound", "ping.wav",
            "--onesignal-android-channel-id", "chan-1", "--onesignal-grace-period", str(GRACE),
            "--onesignal-retry-delay", "0.2", "--onesignal-timeout", "1",
            "--presence-lease", "1.5", "--heartbeat-interval", "0.5", *extra)


@pytest.fixture(scope="module")
def fake():
    with FakeOneSignal() as server:
        yield server


@pytest.fixture(scope="module")
def pushd(fake, tmp_path_factory):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-push"),
                          extra_args=push_args(fake.url, "--onesignal-max-attempts", "4"),
                          metrics=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ch(pushd):
    with grpc.insecure_channel(pushd.address) as channel:
        yield channel


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout.strip()


def pair(ch, picture=None):
    ana, ben = User(ch, "Ana", picture=picture), User(ch, "Ben")
    ana.me(), ben.me()
    room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
    return ana, ben, room


def send(user, room, body="hello"):
    return user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id, body=body,
                                   client_msg_id=str(uuid.uuid4())))


def expected_message(recipient, room, message, heading, contents, badge=1):
    link = f"chatd://rooms/{room.id}"
    return {
        "app_id": APP_ID,
        "target_channel": "push",
        "include_aliases": {"external_id": [recipient.id]},
        "headings": {"en": heading},
        "contents": {"en": contents},
        "data": {"type": "message", "room_id": room.id, "message_id": message.id,
                 "deep_link": link},
        "app_url": link,
        "ios_sound": "ping.wav",
        "android_channel_id": "chan-1",
        "thread_id": room.id,
        "collapse_id": room.id,
        "ios_badgeType": "SetTo",
        "ios_badgeCount": badge,
        "ttl": 259200,
        "priority": 10,
    }


def check_request(request, expected: dict) -> str:
    """Asserts method, path, headers and every body field; returns the idempotency key."""
    assert request.method == "POST" and request.path == "/notifications"
    assert request.headers["authorization"] == f"Key {API_KEY}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["host"] == f"127.0.0.1:{request_port(request)}"
    body = request.json
    key = body.pop("idempotency_key")
    assert str(uuid.UUID(key)) == key
    assert body == expected
    return key


def request_port(request) -> str:
    return request.headers["host"].rsplit(":", 1)[1]


def outbox(server, user) -> list[str]:
    """The user's push rows: attempts|failed|last_error."""
    rows = psql(server.database_url,
                "SELECT attempts || '|' || (failed_at IS NOT NULL) || '|' || COALESCE(last_error, '') "
                f"FROM push_outbox WHERE user_id = '{user.id}' ORDER BY id")
    return rows.splitlines() if rows else []


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# --- who gets a push ----------------------------------------------------------------------

def test_an_offline_recipient_gets_exactly_one_push(ch, fake, pushd):
    ana, ben, room = pair(ch)
    message = send(ana, room, "hello Ben")
    [request] = fake.wait_for(ben.id)
    check_request(request, expected_message(ben, room, message, "Ana", "hello Ben"))
    time.sleep(1.0)
    assert len(fake.to(ben.id)) == 1
    assert fake.to(ana.id) == []  # the sender gets none
    wait_until(lambda: outbox(pushd, ben) == [])


def test_the_badge_counts_every_unread_message(ch, fake):
    ana, ben, room = pair(ch)
    first = send(ana, room, "one")
    fake.wait_for(ben.id, 1)
    second = send(ana, room, "two")
    requests = fake.wait_for(ben.id, 2)
    check_request(requests[1], expected_message(ben, room, second, "Ana", "two", badge=2))
    assert first.id != second.id


def test_an_online_recipient_gets_none(ch, fake, pushd):
    ana, ben, room = pair(ch)
    user_tail = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"), timeout=60))
    user_tail.until(lambda e: e.HasField("synced"))
    room_tail = Tail(ben.chat.SubscribeRoom(
        M("chat.v1.SubscribeRoomRequest", room_id=room.id), timeout=60))
    room_tail.until(lambda e: e.HasField("synced"))
    message = send(ana, room, "you are here")
    assert room_tail.until(lambda e: e.HasField("message_created"))[-1].message_created.id \
        == message.id
    user_tail.until(lambda e: e.HasField("room_activity"))
    time.sleep(GRACE + 1.5)
    assert fake.to(ben.id) == []
    assert outbox(pushd, ben) == []  # dropped: delivered within the grace period
    user_tail.cancel(), room_tail.cancel()


def test_a_stream_cancelled_right_before_the_send_gets_one_push(ch, fake):
    ana, ben, room = pair(ch)
    tail = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"), timeout=60))
    tail.until(lambda e: e.HasField("synced"))
    tail.cancel()
    message = send(ana, room, "did you leave?")
    [request] = fake.wait_for(ben.id, timeout=GRACE + 5)
    check_request(request, expected_message(ben, room, message, "Ana", "did you leave?"))
    time.sleep(1.0)
    assert len(fake.to(ben.id)) == 1


def test_online_but_undelivered_gets_a_push_after_the_grace_period(ch, fake, pushd):
    # Presence says Ben is online (his stream's instance holds a lease) but nothing reaches
    # him: a stream that dropped before delivery, seen from the database.
    ana, ben, room = pair(ch)
    psql(pushd.database_url,
         f"INSERT INTO presence (user_id, instance_id, streams) "
         f"SELECT '{ben.id}', id, 1 FROM instances WHERE lease_expires_at > now() LIMIT 1")
    sent_at = time.monotonic()
    message = send(ana, room, "are you there?")
    [request] = fake.wait_for(ben.id, timeout=GRACE + 5)
    assert request.at - sent_at >= GRACE - 0.1
    check_request(request, expected_message(ben, room, message, "Ana", "are you there?"))


def test_a_muted_room_gets_none(ch, fake, pushd):
    ana, ben, room = pair(ch)
    ben.chat.UpdateMembership(M("chat.v1.UpdateMembershipRequest", room_id=room.id, muted=True))
    send(ana, room, "shh")
    time.sleep(1.5)
    assert fake.to(ben.id) == []
    assert outbox(pushd, ben) == []  # not even a row


def test_a_group_push_names_the_room(ch, fake):
    ana, ben, cai = User(ch, "Ana"), User(ch, "Ben"), User(ch, "Cai")
    for user in (ana, ben, cai):
        user.me()
    room = ana.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Weekend plans",
                                  member_user_ids=[ben.id, cai.id]))
    message = send(ana, room, "who brings the tent?")
    for user in (ben, cai):
        [request] = fake.wait_for(user.id)
        check_request(request, expected_message(user, room, message, "Ana in Weekend plans",
                                                "who brings the tent?"))


def test_a_long_body_is_cut_on_a_grapheme_boundary(ch, fake):
    ana, ben, room = pair(ch)
    thumb = "\U0001F44D\U0001F3FD"  # one grapheme, two code points
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"  # one grapheme, five code points
    # 118 letters + the thumb = 119 characters: the thumb stays whole, then the ellipsis.
    kept = send(ana, room, "a" * 118 + thumb + "tail")
    # 119 letters, then the family: the family would be the 120th, so it goes entirely.
    cut = send(ana, room, "b" * 119 + family + "tail")
    # Exactly 120 characters: not cut.
    whole = send(ana, room, "c" * 119 + family)
    requests = fake.wait_for(ben.id, 3)
    by_message = {r.json["data"]["message_id"]: r.json["contents"]["en"] for r in requests}
    assert by_message[kept.id] == "a" * 118 + thumb + "\u2026"
    assert by_message[cut.id] == "b" * 119 + "\u2026"
    assert by_message[whole.id] == "c" * 119 + family


def test_a_new_follower_pushes_to_the_offline_followee(ch, fake):
    ana, ben, _ = pair(ch, picture="https://img.example/ana.png")
    ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))
    ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))  # idempotent: no second
    [request] = fake.wait_for(ben.id)
    link = f"chatd://users/{ana.id}"
    check_request(request, {
        "app_id": APP_ID,
        "target_channel": "push",
        "include_aliases": {"external_id": [ben.id]},
        "headings": {"en": "New follower"},
        "contents": {"en": "Ana started following you"},
        "data": {"type": "follow", "actor_id": ana.id, "actor_name": "Ana",
                 "actor_avatar_url": "https://img.example/ana.png", "deep_link": link},
        "app_url": link,
        "large_icon": "https://img.example/ana.png",
        "ios_attachments": {"avatar": "https://img.example/ana.png"},
        "ios_sound": "ping.wav",
        "android_channel_id": "chan-1",
        "thread_id": "follows",
        "ios_badgeType": "SetTo",
        "ios_badgeCount": 0,
        "ttl": 259200,
        "priority": 10,
    })
    time.sleep(1.0)
    assert len(fake.to(ben.id)) == 1


def test_an_online_followee_gets_no_push(ch, fake):
    ana, ben, _ = pair(ch)
    tail = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"), timeout=60))
    tail.until(lambda e: e.HasField("synced"))
    ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))
    tail.until(lambda e: e.HasField("notification"))
    time.sleep(1.5)
    assert fake.to(ben.id) == []
    tail.cancel()


# --- answers and retries -------------------------------------------------------------------

def test_a_500_is_retried_with_the_same_idempotency_key(ch, fake, pushd):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(status=500, body={"errors": ["Internal Server Error"]}))
    message = send(ana, room, "again")
    first, second = fake.wait_for(ben.id, 2)
    expected = expected_message(ben, room, message, "Ana", "again")
    assert check_request(first, expected) == check_request(second, expected)
    time.sleep(1.0)
    assert len(fake.to(ben.id)) == 2
    wait_until(lambda: outbox(pushd, ben) == [])


def test_a_429_honours_retry_after(ch, fake):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(status=429, headers={"Retry-After": "2"},
                               body={"errors": ["API rate limit exceeded"]}))
    send(ana, room, "slow down")
    first, second = fake.wait_for(ben.id, 2, timeout=10)
    assert second.at - first.at >= 1.9
    assert first.json["idempotency_key"] == second.json["idempotency_key"]


def test_a_stall_past_the_timeout_is_retried_with_the_same_key(ch, fake):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(delay=2.5))  # chatd's timeout is 1 s
    send(ana, room, "anyone?")
    first, second = fake.wait_for(ben.id, 2, timeout=10)
    assert first.json["idempotency_key"] == second.json["idempotency_key"]


def test_a_400_is_given_up_and_kept_with_its_reason(ch, fake, pushd):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(status=400, body={"errors": ["app_id not found"]}))
    send(ana, room, "never")
    fake.wait_for(ben.id)
    wait_until(lambda: outbox(pushd, ben) != [] and outbox(pushd, ben)[0].split("|")[1] == "true")
    time.sleep(1.5)
    assert len(fake.to(ben.id)) == 1
    [row] = outbox(pushd, ben)
    attempts, failed, error = row.split("|", 2)
    assert attempts == "1" and failed == "true" and "HTTP 400" in error
    assert "app_id not found" in error


def test_200_without_an_id_is_final(ch, fake, pushd):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(body={"id": "", "errors": ["All included players are not subscribed"]}))
    send(ana, room, "nobody home")
    fake.wait_for(ben.id)
    wait_until(lambda: outbox(pushd, ben) != [] and outbox(pushd, ben)[0].split("|")[1] == "true")
    time.sleep(1.0)
    assert len(fake.to(ben.id)) == 1
    assert "not subscribed" in outbox(pushd, ben)[0]


def test_200_with_an_errors_object_counts_as_sent(ch, fake, pushd):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, Answer(body={"id": str(uuid.uuid4()),
                                     "errors": {"invalid_aliases": {"external_id": ["x"]}}}))
    send(ana, room, "partly")
    fake.wait_for(ben.id)
    wait_until(lambda: outbox(pushd, ben) == [])
    time.sleep(0.5)
    assert len(fake.to(ben.id)) == 1


def test_retries_stop_after_the_attempt_limit(ch, fake, pushd):
    ana, ben, room = pair(ch)
    fake.answer(ben.id, *[Answer(status=503) for _ in range(10)])
    send(ana, room, "down")
    fake.wait_for(ben.id, 4, timeout=15)  # --onesignal-max-attempts 4
    wait_until(lambda: outbox(pushd, ben) != [] and outbox(pushd, ben)[0].split("|")[1] == "true")
    time.sleep(1.5)
    assert len(fake.to(ben.id)) == 4
    assert "gave up after 4 attempts" in outbox(pushd, ben)[0]


def test_metrics_count_pushes_and_the_key_is_never_logged(ch, fake, pushd):
    def metric(name):
        with urllib.request.urlopen(f"http://{pushd.metrics_address}/metrics", timeout=10) as r:
            text = r.read().decode()
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else None

    before = {name: metric(name) or 0 for name in (
        "chatd_push_sent_total", "chatd_push_failed_total", "chatd_push_retried_total")}
    ana, ben, cai = User(ch, "Ana"), User(ch, "Ben"), User(ch, "Cai")
    for user in (ana, ben, cai):
        user.me()
    fake.answer(ben.id, Answer(status=503))  # retried, then sent
    fake.answer(cai.id, Answer(status=403))  # given up
    for peer in (ben, cai):
        room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=peer.id))
        send(ana, room, "counted")
    fake.wait_for(ben.id, 2), fake.wait_for(cai.id)
    wait_until(lambda: metric("chatd_push_sent_total") >= before["chatd_push_sent_total"] + 1
               and metric("chatd_push_failed_total") >= before["chatd_push_failed_total"] + 1)
    assert metric("chatd_push_retried_total") >= before["chatd_push_retried_total"] + 1
    assert metric("chatd_push_dropped_total") is not None
    wait_until(lambda: metric("chatd_push_queue_depth") is not None, timeout=10)
    assert metric("chatd_push_oldest_pending_seconds") is not None
    assert API_KEY not in pushd.log_path.read_text(errors="replace")


# --- crashes, outages, several instances, push off ------------------------------------------

def test_a_crash_before_the_push_sends_it_after_restart_exactly_once(tmp_path):
    fake = FakeOneSignal().start()
    port = fake.port
    server = ChatdProcess(chatd_binary(), tmp_path / "chatd", extra_args=push_args(fake.url))
    server.start()
    try:
        fake.stop()  # OneSignal unreachable: the push cannot go
        with grpc.insecure_channel(server.address) as channel:
            ana, ben, room = pair(channel)
            message = send(ana, room, "survive the crash")  # the RPC does not notice
        wait_until(lambda: outbox(server, ben) != [] and int(outbox(server, ben)[0].split("|")[0]) >= 1)
        server.kill()  # SIGKILL: the row is committed, the push never went out
        fake = FakeOneSignal(port=port).start()
        server.start()
        # A kill during an attempt leaves the row claimed: it comes back when its lease ends
        # (the 1 s request timeout + 30 s), not at once.
        [request] = fake.wait_for(ben.id, timeout=45)
        assert request.json["data"]["message_id"] == message.id
        time.sleep(2.0)
        assert len(fake.to(ben.id)) == 1
        wait_until(lambda: outbox(server, ben) == [])
    finally:
        server.stop()
        fake.stop()


def test_an_outage_delays_pushes_and_never_fails_sends(tmp_path):
    fake = FakeOneSignal().start()
    port = fake.port
    server = ChatdProcess(chatd_binary(), tmp_path / "chatd", extra_args=push_args(fake.url))
    server.start()
    try:
        fake.stop()
        with grpc.insecure_channel(server.address) as channel:
            ana, ben, room = pair(channel)
            sent = [send(ana, room, f"m{i}") for i in range(5)]
            time.sleep(4.0)  # several failed attempts
            fake = FakeOneSignal(port=port).start()
            requests = fake.wait_for(ben.id, 5, timeout=30)
        assert sorted(r.json["data"]["message_id"] for r in requests) == sorted(m.id for m in sent)
        time.sleep(1.0)
        assert len(fake.to(ben.id)) == 5
    finally:
        server.stop()
        fake.stop()


def test_two_instances_drain_one_outbox_without_duplicates(tmp_path):
    with FakeOneSignal() as fake:
        first = ChatdProcess(chatd_binary(), tmp_path / "a", extra_args=push_args(fake.url))
        first.start()
        second = ChatdProcess(chatd_binary(), tmp_path / "b", extra_args=push_args(fake.url),
                              extra_env={"CHATD_DATABASE_URL": first.database_url})
        try:
            second.start()
            recipients = []
            with grpc.insecure_channel(first.address) as a, \
                    grpc.insecure_channel(second.address) as b:
                for index in range(12):
                    ana, ben, room = pair(a if index % 2 else b)
                    recipients.append(ben)
                    for body in ("x", "y", "z"):
                        send(ana, room, body)
            for ben in recipients:
                fake.wait_for(ben.id, 3, timeout=20)
            time.sleep(1.5)
            keys = [r.json["idempotency_key"] for r in fake.requests]
            assert len(keys) == 36 and len(set(keys)) == 36
        finally:
            second.stop()
            first.stop()


def test_an_https_endpoint_is_reached_with_alpn_http1(tmp_path):
    pki = PKI(tmp_path / "pki")
    root = pki.root("root", "Push Test Root")
    certificate = pki.server("server", root)
    with FakeOneSignal(tls=(str(certificate.cert), str(certificate.key))) as fake:
        server = ChatdProcess(chatd_binary(), tmp_path / "chatd",
                              extra_args=push_args(fake.url, "--onesignal-ca-file", str(root.cert)))
        server.start()
        try:
            with grpc.insecure_channel(server.address) as channel:
                ana, ben, room = pair(channel)
                message = send(ana, room, "over TLS")
            [request] = fake.wait_for(ben.id)
            check_request(request, expected_message(ben, room, message, "Ana", "over TLS"))
        finally:
            server.stop()


def test_without_onesignal_no_push_rows_are_written(chatd):
    with grpc.insecure_channel(chatd.address) as channel:
        ana, ben, room = pair(channel)
        send(ana, room, "nobody pushes this")
        ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))
    assert psql(chatd.database_url, "SELECT count(*) FROM push_outbox") == "0"
