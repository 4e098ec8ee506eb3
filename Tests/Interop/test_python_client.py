"""The Python client package (Clients/python, chatd_client): its committed stubs match Proto/,
its example runs against a real chatd, and tail_room resumes across a chatd restart."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from chatd_interop import protos
from chatd_interop import server as server_module
from chatd_interop.server import REPO_ROOT, TEST_JWT_SECRET, ChatdProcess, chatd_binary
from chatd_interop.tokens import mint, new_user_id

PACKAGE_ROOT = REPO_ROOT / "Clients" / "python"
EXAMPLE = PACKAGE_ROOT / "examples" / "two_users.py"


def run_python(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with only the committed package added: the suite's own stubs
    (.build/interop-stubs) are not on its path, so a stale package cannot hide behind them."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def test_the_two_users_example_receives_every_message_in_order(address):
    alice, bob = new_user_id("alice"), new_user_id("bob")
    messages = [f"hello {i} {uuid.uuid4().hex[:6]}" for i in range(4)]
    result = run_python([str(EXAMPLE), "--server", address, "--secret", TEST_JWT_SECRET,
                         "--users", alice, bob, *messages])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    received = [line.split(": ", 1)[1] for line in lines if line.startswith(f"{bob} received ")]
    sent = [line.split(": ", 1)[1] for line in lines if line.startswith(f"{alice} sent ")]
    assert sent == messages and received == messages
    assert lines[-1] == f"ok: {bob} received all 4 messages in order"


def test_the_example_fails_with_a_wrong_secret(address):
    result = run_python([str(EXAMPLE), "--server", address, "--secret", "not-the-secret" * 3])
    assert result.returncode == 1
    assert "UNAUTHENTICATED" in result.stderr


CHECK_PACKAGE = """
import sys
from pathlib import Path
from google.protobuf import descriptor_pb2
import chatd_client
from chatd_client import connect
from chatd_client.social.v1 import user_service_pb2

assert Path(chatd_client.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), chatd_client.__file__
with connect(sys.argv[2], sys.argv[3]) as client:
    me = client.users.GetMe(user_service_pb2.GetMeRequest(), timeout=10)
print(me.id)
# Every generated module's descriptor, as the package registers it.
files = descriptor_pb2.FileDescriptorSet()
for path in sorted(Path(chatd_client.__file__).parent.rglob("*_pb2.py")):
    name = ".".join(path.relative_to(Path(sys.argv[1])).with_suffix("").parts)
    module = __import__(name, fromlist=["DESCRIPTOR"])
    files.file.add().ParseFromString(module.DESCRIPTOR.serialized_pb)
Path(sys.argv[4]).write_bytes(files.SerializeToString())
"""


def without_json_names(file: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """protoc's descriptor sets carry each field's json_name; Python gencode leaves it out
    (the runtime derives it), so it is no difference between the two."""
    def strip(messages):
        for message in messages:
            for field in [*message.field, *message.extension]:
                field.ClearField("json_name")
            strip(message.nested_type)

    strip(file.message_type)
    for field in file.extension:
        field.ClearField("json_name")
    return file


def test_the_committed_package_matches_proto_and_calls_chatd(address, tmp_path):
    user = new_user_id("py")
    out = tmp_path / "package.pb"
    result = run_python(["-c", CHECK_PACKAGE, str(PACKAGE_ROOT), address, mint(user), str(out)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user

    committed = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file}
    # What protoc makes of Proto/ today (the suite generates it at start).
    current = {f.name: without_json_names(f) for f in descriptor_pb2.FileDescriptorSet.FromString(
        (protos.STUBS_DIR / "proto.pb").read_bytes()).file}
    expected = sorted(n for n in current if n.startswith(("chat/", "social/", "google/rpc/")))
    assert sorted(committed) == expected, "run scripts/gen gen_python and commit the result"
    stale = [n for n in expected if committed[n] != current[n]]
    assert not stale, f"stale stubs for {stale}: run scripts/gen gen_python and commit the result"


@pytest.fixture
def chatd_client_package():
    """The committed package imported here. Its proto files are byte-identical to the suite's
    test-time stubs when current (the previous test checks), so the descriptor pool accepts
    both."""
    sys.path.insert(0, str(PACKAGE_ROOT))
    try:
        import chatd_client

        yield chatd_client
    finally:
        sys.path.remove(str(PACKAGE_ROOT))


def test_tail_room_resumes_across_a_chatd_restart(chatd_client_package, tmp_path, monkeypatch):
    from chatd_client.chat.v1 import chat_service_pb2 as chat
    from chatd_client.social.v1 import user_service_pb2 as users

    first = ChatdProcess(chatd_binary(), tmp_path / "first")
    first.start()
    second = None
    try:
        alice_id, bob_id = new_user_id("alice"), new_user_id("bob")
        alice = chatd_client_package.connect(first.address, mint(alice_id, "Alice"))
        bob = chatd_client_package.connect(first.address, mint(bob_id, "Bob"))
        alice.users.GetMe(users.GetMeRequest(), timeout=10)
        bob.users.GetMe(users.GetMeRequest(), timeout=10)
        room = alice.chat.StartChat(chat.StartChatRequest(peer_user_id=bob_id), timeout=10)

        tail = chatd_client_package.tail_room(bob.chat, room.id, initial_backoff=0.05,
                                              max_backoff=0.5)
        events: queue.Queue = queue.Queue()

        def follow():
            for event in tail:
                events.put(event)

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()

        def send(body: str):
            return alice.chat.SendMessage(chat.SendMessageRequest(
                room_id=room.id, client_msg_id=str(uuid.uuid4()), body=body),
                timeout=10, wait_for_ready=True)

        def until_message(body: str) -> list:
            seen = []
            while True:
                event = events.get(timeout=20)
                seen.append(event)
                if event.WhichOneof("event") == "message_created" and event.message_created.body == body:
                    return seen

        sent = [send("before 1"), send("before 2")]
        seen = until_message("before 2")
        # A restart on the same address and database: streams end with UNAVAILABLE.
        first.stop()
        monkeypatch.setattr(server_module, "free_port", lambda: first.port)
        second = ChatdProcess(chatd_binary(), tmp_path / "second",
                              extra_env={"CHATD_DATABASE_URL": first.database_url})
        second.start()
        sent += [send("after 1"), send("after 2")]
        seen += until_message("after 2")
        tail.cancel()
        reader.join(5)
        alice.close()
        bob.close()

        messages = [e.message_created for e in seen if e.WhichOneof("event") == "message_created"]
        assert [m.id for m in messages] == [m.id for m in sent]
        seqs = [e.seq for e in seen if e.seq]
        assert seqs == list(range(1, seqs[-1] + 1)), "every persisted event once, in order"
        assert sum(e.WhichOneof("event") == "synced" for e in seen) >= 2  # one per subscription
    finally:
        first.stop()
        if second is not None:
            second.stop()
