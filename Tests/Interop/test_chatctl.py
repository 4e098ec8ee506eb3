"""chatctl end to end against a real chatd: tokens, a conversation, follows, errors, and a
live tail that resumes across a chatd restart without losing or repeating anything (the Swift
client library's resuming subscription)."""

import json
import queue
import subprocess
import threading
import time

import pytest

from chatd_interop.server import TEST_JWT_SECRET, ChatdProcess, chatd_binary, chatctl_binary


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chatd = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-ctl"),
                         extra_args=("--shutdown-grace", "1"))
    chatd.start()
    yield chatd
    chatd.stop()


def ctl(server, *args, token=None, check=True):
    env = {"CHATCTL_SERVER": server.address, "PATH": "/usr/bin:/bin"}
    if token:
        env["CHATCTL_TOKEN"] = token
    result = subprocess.run([str(chatctl_binary()), *args], capture_output=True, text=True,
                            env=env, timeout=30, stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, f"chatctl {' '.join(args)}: {result.stderr}"
    return result


def ctl_json(server, *args, token):
    out = ctl(server, *args, "--json", token=token).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def token(server, user, name):
    return ctl(server, "token", "--user", user, "--name", name,
               "--secret", TEST_JWT_SECRET).stdout.strip()


@pytest.fixture(scope="module")
def people(server):
    suffix = str(time.monotonic_ns())[-8:]
    alice, bob = f"alice-{suffix}", f"bob-{suffix}"
    return {"alice": (alice, token(server, alice, "Alice")),
            "bob": (bob, token(server, bob, "Bob"))}


def test_a_conversation_from_the_command_line(server, people):
    (alice, a), (bob, b) = people["alice"], people["bob"]
    assert ctl(server, "whoami", token=b).stdout.startswith("Bob (")
    room = ctl(server, "start", bob, token=a).stdout.strip()
    hello = ctl_json(server, "send", room, "hello bob", token=a)[0]
    assert hello["body"] == "hello bob" and hello["senderId"] == alice
    ctl(server, "send", room, "reply", "--reply-to", hello["id"], token=b)
    ctl(server, "react", hello["id"], "👍", token=b)
    ctl(server, "edit", hello["id"], "hello, bob", token=a)

    history = ctl_json(server, "history", room, token=b)
    assert [m["body"] for m in history] == ["hello, bob", "reply"]
    assert history[0]["reactions"] == [{"count": 1, "emoji": "👍", "reactedByMe": True}]
    assert "hello, bob" in ctl(server, "history", room, token=b).stdout  # human output

    assert ctl_json(server, "search", "reply", token=a)[0]["body"] == "reply"
    assert ctl_json(server, "read", room, token=b)[0]["unreadCount"] == 0
    rooms = ctl_json(server, "rooms", token=b)
    assert rooms[0]["id"] == room and rooms[0]["unreadCount"] == 0

    ctl(server, "follow", bob, token=a)
    assert [u["id"] for u in ctl_json(server, "followers", token=b)] == [alice]
    assert [u["id"] for u in ctl_json(server, "following", token=a)] == [bob]
    kinds = [n["kind"] for n in ctl_json(server, "notifications", token=b)]
    assert "NOTIFICATION_KIND_FOLLOWED" in kinds
    ctl(server, "unfollow", bob, token=a)
    assert ctl_json(server, "followers", token=b) == []

    ctl(server, "delete", hello["id"], token=a)
    assert ctl_json(server, "history", room, token=b)[0]["deleted"] is True


def test_errors_are_readable_with_the_grpc_status(server, people):
    _, a = people["alice"]
    missing = ctl(server, "history", "3f1c2a34-0000-4000-8000-000000000000", token=a, check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("chatctl: NOT_FOUND: ")
    bad = ctl(server, "send", "not-a-room", "x", token=a, check=False)
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr
    unauthenticated = ctl(server, "whoami", token="not-a-jwt", check=False)
    assert unauthenticated.returncode == 1 and "UNAUTHENTICATED" in unauthenticated.stderr
    no_token = ctl(server, "whoami", check=False)
    assert no_token.returncode != 0 and "CHATCTL_TOKEN" in no_token.stderr


class TailProcess:
    """`chatctl tail ... --json` in the background, its lines parsed as they come."""

    def __init__(self, server, *args, token):
        self.process = subprocess.Popen(
            [str(chatctl_binary()), "tail", *args, "--json"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
            env={"CHATCTL_SERVER": server.address, "CHATCTL_TOKEN": token})
        self.lines: queue.Queue = queue.Queue()
        self.printed: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def until(self, predicate, timeout=20):
        seen, deadline = [], time.monotonic() + timeout
        while True:
            try:
                event = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"tail: nothing matching within {timeout}s; saw {seen}; "
                                     f"stderr: {self.stop()}") from None
            seen.append(event)
            self.printed.append(event)
            if predicate(event):
                return seen

    def stop(self):
        self.process.kill()
        _, err = self.process.communicate(timeout=5)
        return err


def test_tail_resumes_across_a_chatd_restart_without_loss_or_repeat(server):
    suffix = str(time.monotonic_ns())[-8:]
    a, b = token(server, f"ann-{suffix}", "Ann"), token(server, f"ben-{suffix}", "Ben")
    ctl(server, "whoami", token=b)  # Ben exists once he has called
    room = ctl(server, "start", f"ben-{suffix}", token=a).stdout.strip()
    before = [ctl_json(server, "send", room, f"before {i}", token=a)[0]["id"] for i in range(3)]
    tail = TailProcess(server, room, "--all", token=b)
    try:
        tail.until(lambda e: "synced" in e)
        during = [ctl_json(server, "send", room, f"live {i}", token=a)[0]["id"] for i in range(2)]
        tail.until(lambda e: e.get("messageCreated", {}).get("id") == during[-1])

        server.restart()  # the tail's stream ends (UNAVAILABLE); it reconnects by itself
        after = [ctl_json(server, "send", room, f"after {i}", token=a)[0]["id"] for i in range(3)]
        tail.until(lambda e: e.get("messageCreated", {}).get("id") == after[-1])
        # It resubscribed: a replay since its last seq and `synced` (after the messages when
        # it came back after they were sent).
        if sum("synced" in e for e in tail.printed) < 2:
            tail.until(lambda e: "synced" in e)
    finally:
        tail.stop()
    # One tail process from start to end: every message once, in order, across the restart.
    messages = [e["messageCreated"]["id"] for e in tail.printed if "messageCreated" in e]
    assert messages == [*before, *during, *after]
    seqs = [int(e["seq"]) for e in tail.printed if e["seq"] != "0"]
    assert seqs == list(range(1, seqs[-1] + 1)), "a persisted event was lost or repeated"
    synced = [e for e in tail.printed if "synced" in e]
    assert len(synced) >= 2, "the tail replayed and synced again after the restart"
    history = [m["id"] for m in ctl_json(server, "history", room, token=b)]
    assert history == messages
