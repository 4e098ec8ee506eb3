"""The standard gRPC interop cases (grpc/grpc doc/interop-test-descriptions.md) run by the
Python grpcio client against chatd's grpc.testing.TestService. The compression cases are in
test_compression.py. Each test follows the description's procedure and asserts what it asks."""

import queue

import grpc
import pytest

from chatd_interop import protos

Empty = protos.message("grpc.testing.Empty")
Payload = protos.message("grpc.testing.Payload")
SimpleRequest = protos.message("grpc.testing.SimpleRequest")
EchoStatus = protos.message("grpc.testing.EchoStatus")
StreamingInputCallRequest = protos.message("grpc.testing.StreamingInputCallRequest")
StreamingOutputCallRequest = protos.message("grpc.testing.StreamingOutputCallRequest")
ResponseParameters = protos.message("grpc.testing.ResponseParameters")

TIMEOUT = 10


def zeros(n: int):
    return Payload(body=bytes(n))


def duplex_request(response_size: int, payload_size: int):
    return StreamingOutputCallRequest(
        response_parameters=[ResponseParameters(size=response_size)], payload=zeros(payload_size)
    )


class Pipe:
    """A request iterator the test feeds one message at a time (the spec's ping-pong)."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()

    def __iter__(self):
        while (item := self._queue.get()) is not None:
            yield item

    def add(self, item) -> None:
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(None)


def test_empty_unary(test_service):
    reply = test_service.EmptyCall(Empty(), timeout=TIMEOUT)
    assert reply is not None
    assert isinstance(reply, Empty)
    assert reply.ByteSize() == 0


def test_large_unary(test_service):
    reply = test_service.UnaryCall(
        SimpleRequest(response_size=314159, payload=zeros(271828)), timeout=TIMEOUT
    )
    assert len(reply.payload.body) == 314159
    assert reply.payload.body == bytes(314159)


def test_client_streaming(test_service):
    requests = [StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904)]
    reply = test_service.StreamingInputCall(iter(requests), timeout=TIMEOUT)
    assert reply.aggregated_payload_size == 74922


def test_server_streaming(test_service):
    sizes = [31415, 9, 2653, 58979]
    request = StreamingOutputCallRequest(
        response_parameters=[ResponseParameters(size=n) for n in sizes]
    )
    call = test_service.StreamingOutputCall(request, timeout=TIMEOUT)
    replies = list(call)
    assert [len(r.payload.body) for r in replies] == sizes
    assert all(r.payload.body == bytes(len(r.payload.body)) for r in replies)
    assert call.code() == grpc.StatusCode.OK


def test_ping_pong(test_service):
    pipe = Pipe()
    call = test_service.FullDuplexCall(iter(pipe), timeout=TIMEOUT)
    sizes = []
    try:
        for response_size, payload_size in [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]:
            pipe.add(duplex_request(response_size, payload_size))
            sizes.append(len(next(call).payload.body))
    finally:
        pipe.close()
    assert sizes == [31415, 9, 2653, 58979]
    assert list(call) == []  # nothing more after the half-close
    assert call.code() == grpc.StatusCode.OK


def test_empty_stream(test_service):
    call = test_service.FullDuplexCall(iter([]), timeout=TIMEOUT)
    assert list(call) == []
    assert call.code() == grpc.StatusCode.OK


def test_timeout_on_sleeping_server(test_service):
    pipe = Pipe()
    call = test_service.FullDuplexCall(iter(pipe), timeout=0.001)
    pipe.add(StreamingOutputCallRequest(payload=zeros(27182)))
    try:
        with pytest.raises(grpc.RpcError) as info:
            next(call)
    finally:
        pipe.close()
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_cancel_after_begin(test_service):
    pipe = Pipe()  # never fed: the call has sent metadata and no message
    future = test_service.StreamingInputCall.future(iter(pipe), timeout=TIMEOUT)
    try:
        future.cancel()
        assert future.cancelled()
        assert future.code() == grpc.StatusCode.CANCELLED
    finally:
        pipe.close()


def test_cancel_after_first_response(test_service):
    pipe = Pipe()
    call = test_service.FullDuplexCall(iter(pipe), timeout=TIMEOUT)
    try:
        pipe.add(duplex_request(31415, 27182))
        assert len(next(call).payload.body) == 31415
        call.cancel()
        with pytest.raises(grpc.RpcError) as info:
            next(call)
    finally:
        pipe.close()
    assert info.value.code() == grpc.StatusCode.CANCELLED
    assert call.code() == grpc.StatusCode.CANCELLED


def _assert_status(error: grpc.RpcError, code: int, message: str) -> None:
    assert error.code().value[0] == code
    assert error.details() == message


def test_status_code_and_message(test_service):
    message = "test status message"
    status = EchoStatus(code=2, message=message)
    with pytest.raises(grpc.RpcError) as unary:
        test_service.UnaryCall(SimpleRequest(response_status=status), timeout=TIMEOUT)
    _assert_status(unary.value, 2, message)

    call = test_service.FullDuplexCall(
        iter([StreamingOutputCallRequest(response_status=status)]), timeout=TIMEOUT
    )
    with pytest.raises(grpc.RpcError) as duplex:
        list(call)
    _assert_status(duplex.value, 2, message)


def test_special_status_message(test_service):
    message = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
    with pytest.raises(grpc.RpcError) as info:
        test_service.UnaryCall(
            SimpleRequest(response_status=EchoStatus(code=2, message=message)), timeout=TIMEOUT
        )
    _assert_status(info.value, 2, message)


INITIAL_KEY, INITIAL_VALUE = "x-grpc-test-echo-initial", "test_initial_metadata_value"
TRAILING_KEY, TRAILING_VALUE = "x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"
ECHO_METADATA = ((INITIAL_KEY, INITIAL_VALUE), (TRAILING_KEY, TRAILING_VALUE))


def _assert_echoed(initial, trailing) -> None:
    assert (INITIAL_KEY, INITIAL_VALUE) in tuple(initial)
    assert (TRAILING_KEY, TRAILING_VALUE) in tuple(trailing)


def test_custom_metadata(test_service):
    reply, call = test_service.UnaryCall.with_call(
        SimpleRequest(response_size=314159, payload=zeros(271828)),
        metadata=ECHO_METADATA,
        timeout=TIMEOUT,
    )
    assert len(reply.payload.body) == 314159
    _assert_echoed(call.initial_metadata(), call.trailing_metadata())

    duplex = test_service.FullDuplexCall(
        iter([duplex_request(314159, 271828)]), metadata=ECHO_METADATA, timeout=TIMEOUT
    )
    assert [len(r.payload.body) for r in duplex] == [314159]
    assert duplex.code() == grpc.StatusCode.OK
    _assert_echoed(duplex.initial_metadata(), duplex.trailing_metadata())


def _empty_call(channel, path: str):
    return channel.unary_unary(
        path, request_serializer=Empty.SerializeToString, response_deserializer=Empty.FromString
    )


def test_unimplemented_method(channel):
    with pytest.raises(grpc.RpcError) as info:
        _empty_call(channel, "/grpc.testing.TestService/UnimplementedCall")(
            Empty(), timeout=TIMEOUT
        )
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_unimplemented_service(channel):
    with pytest.raises(grpc.RpcError) as info:
        _empty_call(channel, "/grpc.testing.UnimplementedService/UnimplementedCall")(
            Empty(), timeout=TIMEOUT
        )
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_concurrent_large_unary(test_service):
    """The spec's (TODO) concurrent_large_unary, scaled to this machine: 50 at once."""
    request = SimpleRequest(response_size=314159, payload=zeros(271828))
    futures = [test_service.UnaryCall.future(request, timeout=30) for _ in range(50)]
    assert [len(f.result().payload.body) for f in futures] == [314159] * 50


def test_streams_interleave_on_one_connection(test_service):
    """Two bidi calls on one channel progress independently (no head-of-line blocking)."""
    first, second = Pipe(), Pipe()
    a = test_service.FullDuplexCall(iter(first), timeout=TIMEOUT)
    b = test_service.FullDuplexCall(iter(second), timeout=TIMEOUT)
    try:
        second.add(duplex_request(7, 1))
        assert len(next(b).payload.body) == 7
        first.add(duplex_request(11, 1))
        assert len(next(a).payload.body) == 11
    finally:
        first.close()
        second.close()
    assert list(a) == [] and list(b) == []
    assert (a.code(), b.code()) == (grpc.StatusCode.OK, grpc.StatusCode.OK)
