"""bench.v1.Chat, the benchmark service of issue 9 (scripts/bench), through grpcio: served
only with --enable-bench-service, without a token; Send assigns each room's next seq and every
subscriber gets every Send made after it subscribed, in order, and nothing from before."""

from __future__ import annotations

import threading
import time
import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary


def M(name, **fields):
    return protos.message(name)(**fields)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("bench"),
                          extra_args=("--enable-bench-service",))
    server.start()
    yield server
    assert server.stop() == 0, server.log_tail()


class Reader:
    """Reads one Subscribe stream on a thread, keeping every event."""

    def __init__(self, call):
        self.call = call
        self.events = []
        self.error: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for event in self.call:
                self.events.append(event)
        except grpc.RpcError as error:
            self.error = error


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_subscribers_get_every_send_after_they_started_in_order(bench):
    room = f"room-{uuid.uuid4().hex[:8]}"
    with bench.open_channel() as channel:
        stub = protos.stub(channel, "bench.v1.Chat")
        before = stub.Send(M("bench.v1.SendRequest", room_id=room, body="before"), timeout=5)
        assert before.seq == 1
        readers = [Reader(stub.Subscribe(M("bench.v1.SubscribeRequest", room_id=room)))
                   for _ in range(3)]
        # The service has no "synced" event: warm-up Sends until every stream has one, so
        # every stream is registered before the measured Sends.
        warm_seqs = []

        def all_live():
            warm_seqs.append(stub.Send(M("bench.v1.SendRequest", room_id=room, body="warm"),
                                       timeout=5).seq)
            return all(reader.events for reader in readers)

        wait_for(all_live)
        replies = [stub.Send(M("bench.v1.SendRequest", room_id=room, body=f"m{i}",
                                client_msg_id=f"c{i}"), timeout=5) for i in range(25)]
        assert [r.seq for r in replies] == list(range(warm_seqs[-1] + 1, warm_seqs[-1] + 26))
        wait_for(lambda: all(r.events and r.events[-1].seq == replies[-1].seq for r in readers))
        for reader in readers:
            reader.call.cancel()
            reader.thread.join(timeout=10)
            events = reader.events
            # Nothing from before the subscription; then every Send, each once, in order.
            assert events[0].seq > before.seq
            assert [e.seq for e in events] == list(range(events[0].seq, replies[-1].seq + 1))
            measured = events[-25:]
            assert [e.body for e in measured] == [f"m{i}" for i in range(25)]
            assert all(e.room_id == room for e in events)
            assert [e.sent_at_ms for e in measured] == [r.sent_at_ms for r in replies]
            assert reader.error is not None and reader.error.code() == grpc.StatusCode.CANCELLED
        # Wall-clock milliseconds.
        assert abs(replies[0].sent_at_ms - time.time() * 1000) < 60_000


def test_rooms_have_their_own_seqs(bench):
    with bench.open_channel() as channel:
        stub = protos.stub(channel, "bench.v1.Chat")
        a, b = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
        seqs = [stub.Send(M("bench.v1.SendRequest", room_id=room), timeout=5).seq
                for room in (a, a, b, a, b)]
        assert seqs == [1, 2, 1, 3, 2]


def test_empty_room_id_is_invalid_argument(bench):
    with bench.open_channel() as channel:
        stub = protos.stub(channel, "bench.v1.Chat")
        with pytest.raises(grpc.RpcError) as send:
            stub.Send(M("bench.v1.SendRequest", room_id="", body="x"), timeout=5)
        assert send.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "room_id" in send.value.details()
        with pytest.raises(grpc.RpcError) as subscribe:
            next(stub.Subscribe(M("bench.v1.SubscribeRequest", room_id=""), timeout=5))
        assert subscribe.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_not_served_without_the_flag(chatd):
    with chatd.open_channel() as channel:
        stub = protos.stub(channel, "bench.v1.Chat")
        with pytest.raises(grpc.RpcError) as send:
            stub.Send(M("bench.v1.SendRequest", room_id="r", body="x"), timeout=5)
        assert send.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with pytest.raises(grpc.RpcError) as subscribe:
            next(stub.Subscribe(M("bench.v1.SubscribeRequest", room_id="r"), timeout=5))
        assert subscribe.value.code() == grpc.StatusCode.UNIMPLEMENTED
