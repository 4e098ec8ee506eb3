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


# --- oversized metadata (the header list limit, 16 KiB decoded) ------------------------------

GET_ME = ("social.v1.UserService", "GetMe")


def get_me(chatd, metadata):
    with chatd.open_channel() as channel:
        call, request = protos.unary_method(channel, *GET_ME)
        return call(request(), metadata=metadata, timeout=10)


@pytest.mark.parametrize("metadata", [
    (("x-big", "b" * 20_000),),
    (("x-big", "b" * 60_000),),
    tuple((f"x-h{i}", "v" * 20) for i in range(600)),
    (("authorization", "Bearer " + "a" * 20_000),),
], ids=["one 20 KB value", "one 60 KB value", "600 headers", "a 20 KB token"])
def test_oversized_metadata_is_resource_exhausted(chatd, metadata):
    """The whole header list is over 16 KiB: RESOURCE_EXHAUSTED (as grpc-core answers), not a
    reset grpcio reads as INTERNAL; the server and a new call are fine after."""
    with pytest.raises(grpc.RpcError) as info:
        get_me(chatd, metadata)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, info.value.details()
    assert "header" in info.value.details()
    chatd.assert_serving()


def test_one_header_field_over_64_kib_closes_the_connection(chatd):
    """nghttp2 refuses a single header field over 64 KiB with a connection error
    (GOAWAY COMPRESSION_ERROR): grpcio reports UNAVAILABLE; the server stays up."""
    with pytest.raises(grpc.RpcError) as info:
        get_me(chatd, (("x-big", "b" * 200_000),))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
    chatd.assert_serving()
    with pytest.raises(grpc.RpcError) as info:
        get_me(chatd, ())  # no token: the call is routed and refused as usual
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_metadata_just_under_the_limit_is_served(chatd):
    """About 14 KiB of headers: served (health needs no token)."""
    with chatd.open_channel() as channel:
        health = protos.stub(channel, "grpc.health.v1.Health")
        request = protos.message("grpc.health.v1.HealthCheckRequest")()
        reply = health.Check(request, metadata=(("x-big", "b" * 14_000),), timeout=10)
    assert reply.status == 1  # SERVING


def test_the_same_connection_serves_after_oversized_metadata(chatd):
    with chatd.open_channel() as channel:
        call, request = protos.unary_method(channel, *GET_ME)
        for _ in range(3):
            with pytest.raises(grpc.RpcError) as info:
                call(request(), metadata=(("x-big", "b" * 40_000),), timeout=10)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            with pytest.raises(grpc.RpcError) as info:
                call(request(), timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
