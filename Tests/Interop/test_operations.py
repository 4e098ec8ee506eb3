"""What docs/operations.md promises an operator: the configuration reference matches chatd's
flags, the pool size flag, pruned room events answer OUT_OF_RANGE, and a rolling restart of
one of two instances loses and repeats nothing for a subscriber that moves to the other."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import (REPO_ROOT, TEST_JWT_SECRET, ChatdProcess, chatd_binary,
                                  fresh_database)
from chatd_interop.streams import Tail
from chatd_interop.users import User

OPERATIONS = REPO_ROOT / "docs" / "operations.md"


def M(name, **fields):
    return protos.message(name)(**fields)


def help_flags() -> dict[str, str | None]:
    """Every long flag of `chatd --help` with the CHATD_* variable its help names."""
    text = subprocess.run([str(chatd_binary()), "--help"], check=True, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=30).stdout
    options = text.split("OPTIONS:", 1)[1].split("SUBCOMMANDS:", 1)[0]
    flags: dict[str, str | None] = {}
    # Each option starts at two spaces of indent; its help may wrap over the next lines.
    for entry in re.split(r"\n  (?=-)", "\n" + options):
        names = re.findall(r"(?<![\w-])(--[a-z0-9-]+)", entry.split("  ", 1)[0])
        if not names or names[0] == "--help":
            continue
        variable = re.search(r"Env:\s+(CHATD_[A-Z0-9_]+)", " ".join(entry.split()))
        flags[names[0]] = variable.group(1) if variable else None
    return flags


def documented_flags() -> dict[str, str]:
    """The configuration table of docs/operations.md: `| `--flag` | `CHATD_…` | … |` rows."""
    rows = re.findall(r"^\| `(--[a-z0-9-]+)[^`]*` \| `(CHATD_[A-Z0-9_]+)`",
                      OPERATIONS.read_text(), re.MULTILINE)
    return dict(rows)


def test_every_flag_is_documented_and_every_documented_flag_exists():
    flags, documented = help_flags(), documented_flags()
    assert len(flags) >= 20, flags
    missing = sorted(set(flags) - set(documented))
    assert not missing, f"flags of chatd --help missing from docs/operations.md: {missing}"
    stale = sorted(set(documented) - set(flags))
    assert not stale, f"docs/operations.md documents flags chatd does not have: {stale}"
    for flag, variable in flags.items():
        assert variable is not None, f"{flag}: its help names no CHATD_* variable"
        assert documented[flag] == variable, f"{flag}: help says {variable}, docs {documented[flag]}"


def scrape(server: ChatdProcess) -> str:
    with urllib.request.urlopen(f"http://{server.metrics_address}/metrics", timeout=10) as reply:
        return reply.read().decode()


def assert_refused(tmp_path, args: list[str], message: str):
    """chatd started with `args` exits at once, saying `message`."""
    rejected = subprocess.run([str(chatd_binary()), *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30, cwd=tmp_path)
    assert rejected.returncode != 0
    assert message in rejected.stderr, rejected.stderr


def test_database_max_connections_sizes_the_pool(tmp_path):
    server = ChatdProcess(chatd_binary(), tmp_path / "pool", metrics=True,
                          extra_env={"CHATD_DATABASE_MAX_CONNECTIONS": "3"})
    server.start()
    try:
        assert re.search(r"^chatd_db_pool_connections_max 3(\.0)?$", scrape(server), re.MULTILINE)
    finally:
        assert server.stop() == 0, server.log_tail()
    assert_refused(tmp_path, ["--database-max-connections", "0"],
                   "--database-max-connections must be positive")


def test_prepared_statements_can_be_turned_off(tmp_path):
    """--database-prepared-statements off, for PgBouncer in transaction mode before 1.21: every
    statement goes unnamed (ChatStore's PreparedStatementTests checks the sessions hold none)
    and the calls work as with the default; a value other than on or off is refused."""
    server = ChatdProcess(chatd_binary(), tmp_path / "unnamed",
                          extra_env={"CHATD_DATABASE_PREPARED_STATEMENTS": "off"})
    server.start()
    try:
        with server.open_channel() as channel:
            ana, ben = User(channel, "Ana"), User(channel, "Ben")
            ana.me(), ben.me()
            room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
            for body in ("one", "two"):
                send(ana, room.id, body)
            assert [m.body for m in history(ben, room.id)] == ["one", "two"]
    finally:
        assert server.stop() == 0, server.log_tail()
    assert_refused(tmp_path, ["--database-prepared-statements", "maybe"],
                   "--database-prepared-statements must be on or off")


def test_a_port_in_use_makes_chatd_exit_with_the_reason(tmp_path):
    """A listener that cannot bind ends the process with an error naming the flag: before,
    a taken metrics port stopped the store while the gRPC port kept answering UNAVAILABLE and
    the process never exited."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    taken = f"127.0.0.1:{holder.getsockname()[1]}"
    try:
        for args, message in [
            # The metrics endpoint listens meanwhile: it must stop too for chatd to exit.
            (["--listen", taken, "--metrics-listen", "127.0.0.1:0"],
             f"cannot listen on {taken} (--listen)"),
            (["--listen", "127.0.0.1:0", "--metrics-listen", taken],
             f"the metrics endpoint cannot listen on {taken} (--metrics-listen"),
        ]:
            env = dict(os.environ) | {"CHATD_DATA_DIR": str(tmp_path / "data"),
                                      "CHATD_JWT_SECRET": TEST_JWT_SECRET}
            if env.get("CHATD_TEST_DATABASE_URL"):
                env["CHATD_DATABASE_URL"] = fresh_database(env["CHATD_TEST_DATABASE_URL"])
            failed = subprocess.run([str(chatd_binary()), *args], capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=60, cwd=tmp_path, env=env)
            assert failed.returncode != 0, failed.stderr
            assert message in failed.stderr, failed.stderr
    finally:
        holder.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A chatd on a database of the throwaway cluster, which the other tests join or query."""
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("ops-a"),
                          extra_args=("--rate-limit", "off", "--heartbeat-interval", "1",
                                      "--shutdown-grace", "2"))
    server.start()
    if not server.database_url:
        server.stop()
        pytest.skip("needs CHATD_TEST_DATABASE_URL (scripts/test starts a cluster)")
    yield server
    server.stop()


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=30).stdout.strip()


def send(user: User, room_id: str, body: str):
    return user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room_id, body=body,
                                   client_msg_id=str(uuid.uuid4())))


def history(user: User, room_id: str) -> list:
    """Every message of the room through GetMessages, oldest first."""
    messages, after = [], 0
    while True:
        page = user.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room_id,
                                       after_seq=after, limit=200))
        messages += page.messages
        if not page.has_more:
            return messages
        after = page.messages[-1].seq


def test_pruned_room_events_answer_out_of_range(shared):
    with shared.open_channel() as channel:
        ana, ben = User(channel, "Ana"), User(channel, "Ben")
        ana.me(), ben.me()
        room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
        old = [send(ana, room.id, f"old {i}") for i in range(5)]
        psql(shared.database_url, "SELECT pg_sleep(0.05)")
        cutoff = psql(shared.database_url, "SELECT now()")
        psql(shared.database_url, "SELECT pg_sleep(0.05)")
        new = [send(ana, room.id, f"new {i}") for i in range(5)]
        psql(shared.database_url, f"CALL chat_prune_room_events('{cutoff}')")
        pruned = int(psql(shared.database_url,
                          f"SELECT pruned_seq FROM rooms WHERE id = '{room.id}'"))
        assert old[-1].seq <= pruned < new[0].seq

        for after in (0, pruned - 1):
            with pytest.raises(grpc.RpcError) as info:
                next(iter(ben.chat.SubscribeRoom(
                    M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=after))))
            assert info.value.code() == grpc.StatusCode.OUT_OF_RANGE
            assert f"events up to seq {pruned} were pruned" in info.value.details()

        tail = Tail(ben.chat.SubscribeRoom(
            M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=pruned), timeout=30))
        replayed = tail.until(lambda e: e.HasField("synced"))
        tail.cancel()
        assert [e.message_created.id for e in replayed if e.HasField("message_created")] == \
            [m.id for m in new]
        # The messages themselves stay: GetMessages still serves the whole history.
        assert [m.id for m in history(ben, room.id)] == [m.id for m in old + new]


class Resubscriber:
    """A room tail that, whenever its stream ends, resubscribes with after_seq = the last seq
    it saw, through the next address of `addresses` (a client behind a load balancer)."""

    def __init__(self, user_token_metadata, room_id: str, addresses: list[str]):
        self.metadata = user_token_metadata
        self.room_id = room_id
        self.addresses = addresses
        self.messages: list = []
        self.last_seq = 0
        self.ends: list[grpc.StatusCode] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self._follow()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def _follow(self):
        turn = 0
        while not self.stop.is_set():
            address = self.addresses[turn % len(self.addresses)]
            with grpc.insecure_channel(address) as channel:
                call = protos.stub(channel, "chat.v1.ChatService").SubscribeRoom(
                    M("chat.v1.SubscribeRoomRequest", room_id=self.room_id,
                      after_seq=self.last_seq), metadata=self.metadata, timeout=60)
                try:
                    for event in call:
                        if self.stop.is_set():
                            call.cancel()
                            return
                        if event.seq:
                            assert event.seq == self.last_seq + 1, (event.seq, self.last_seq)
                            self.last_seq = event.seq
                        if event.HasField("message_created"):
                            self.messages.append(event.message_created)
                    self.ends.append(grpc.StatusCode.OK)
                except grpc.RpcError as error:
                    self.ends.append(error.code())
                    if error.code() not in (grpc.StatusCode.UNAVAILABLE,
                                            grpc.StatusCode.CANCELLED):
                        raise
            turn += 1
            time.sleep(0.05)


def test_rolling_restart_of_one_of_two_instances_loses_nothing(shared, tmp_path):
    """A subscriber tails a busy room through instance A, a writer sends through B; A restarts
    (SIGTERM, then starts again): the subscriber resumes through B and has every message
    once, in order."""
    other = ChatdProcess(chatd_binary(), tmp_path / "ops-b",
                         extra_args=("--rate-limit", "off", "--heartbeat-interval", "1"),
                         extra_env={"CHATD_DATABASE_URL": shared.database_url})
    other.start()
    try:
        with other.open_channel() as channel_b:
            ana, ben = User(channel_b, "Ana"), User(channel_b, "Ben")
            ana.me(), ben.me()
            room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
            subscriber = Resubscriber([("authorization", f"Bearer {ben.token}")], room.id,
                                      [shared.address, other.address])
            total, sent = 150, []

            def write():
                for i in range(total):
                    sent.append(send(ana, room.id, f"busy {i}"))
                    time.sleep(0.01)

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            while len(sent) < total // 3:
                time.sleep(0.01)
            assert shared.stop() == 0, shared.log_tail()
            shared.start(same_port=True)
            writer.join(timeout=60)
            assert not writer.is_alive() and len(sent) == total

            deadline = time.monotonic() + 20
            while len(subscriber.messages) < total and time.monotonic() < deadline:
                time.sleep(0.05)
            subscriber.stop.set()
            subscriber.thread.join(timeout=10)
            assert subscriber.error is None, repr(subscriber.error)
            assert grpc.StatusCode.UNAVAILABLE in subscriber.ends, subscriber.ends
            got = [m.id for m in subscriber.messages]
            assert len(got) == len(set(got)), "a message arrived twice"
            assert got == [m.id for m in sent]
            assert got == [m.id for m in history(ben, room.id)]
    finally:
        assert other.stop() == 0, other.log_tail()


def test_feed_safety_nets_are_configured_and_exported(tmp_path):
    """--position-check-interval is accepted (and refused when too short), and the watchdog's
    counter is exported from the start, so an alert on its increase has a series."""
    server = ChatdProcess(chatd_binary(), tmp_path / "nets", metrics=True,
                          extra_args=("--position-check-interval", "0.5"))
    server.start()
    try:
        assert re.search(r"^chatd_feed_stalls_total 0(\.0)?$", scrape(server), re.MULTILINE)
    finally:
        assert server.stop() == 0, server.log_tail()
    assert_refused(tmp_path, ["--position-check-interval", "0.05"],
                   "--position-check-interval must be at least 0.1 seconds")
