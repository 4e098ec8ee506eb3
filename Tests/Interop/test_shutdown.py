"""SIGTERM: GOAWAY to open connections, then a clean exit. Runs its own chatd."""

import signal
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatd_interop.raw_grpc import RawConnection, frame
from chatd_interop.server import ChatdProcess, chatd_binary


@pytest.fixture
def own_chatd(tmp_path):
    server = ChatdProcess(chatd_binary(), tmp_path / "chatd")
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop(grace=2)


def test_sigterm_sends_goaway_and_exits_cleanly(own_chatd):
    with RawConnection(own_chatd.address) as connection:
        answer = connection.call("/grpc.health.v1.Health/Check", frame(b""), timeout=5)
        assert answer.grpc_status == 0
        started = time.monotonic()
        own_chatd.process.send_signal(signal.SIGTERM)
        connection.wait_closed(timeout=10)
        assert connection.goaway_received, "connection closed without a GOAWAY"
        exit_code = own_chatd.process.wait(timeout=10)
    assert exit_code == 0, own_chatd.log_tail()
    assert time.monotonic() - started < 10
    with grpc.insecure_channel(own_chatd.address) as channel:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
