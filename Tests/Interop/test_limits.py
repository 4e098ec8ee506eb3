"""Message size limits and server-side deadlines."""

import time

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.raw_grpc import frame

Payload = protos.message("grpc.testing.Payload")
SimpleRequest = protos.message("grpc.testing.SimpleRequest")
StreamingOutputCallRequest = protos.message("grpc.testing.StreamingOutputCallRequest")

MIB = 1024 * 1024


def test_request_over_4_mib_is_resource_exhausted(test_service, chatd):
    request = SimpleRequest(response_size=1, payload=Payload(body=bytes(5 * MIB)))
    with pytest.raises(grpc.RpcError) as info:
        test_service.UnaryCall(request, timeout=20)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    chatd.assert_serving()


def test_request_just_under_4_mib_is_accepted(test_service):
    # 4 MiB is the limit for the whole message: leave room for the fields around the payload.
    request = SimpleRequest(response_size=3, payload=Payload(body=bytes(4 * MIB - 64)))
    assert request.ByteSize() <= 4 * MIB
    reply = test_service.UnaryCall(request, timeout=20)
    assert reply.payload.body == bytes(3)


def test_server_enforces_grpc_timeout(raw):
    """The server itself ends a call past its grpc-timeout with DEADLINE_EXCEEDED (grpcio's
    own timer would hide a server that never does)."""
    stream = raw.start("/grpc.testing.TestService/FullDuplexCall", [("grpc-timeout", "200m")])
    raw.send(stream, frame(StreamingOutputCallRequest().SerializeToString()))  # no half-close
    started = time.monotonic()
    response = raw.wait(stream, timeout=5)
    assert response.grpc_status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert time.monotonic() - started < 3
