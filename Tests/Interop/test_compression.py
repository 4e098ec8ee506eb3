"""The interop compression cases. grpcio runs each procedure; where the description asserts the
per-message compressed flag (which grpcio neither shows nor sets per message), the same
procedure also runs over the raw h2 client, which reads and writes the flag byte itself."""

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.raw_grpc import frame

BoolValue = protos.message("grpc.testing.BoolValue")
Payload = protos.message("grpc.testing.Payload")
SimpleRequest = protos.message("grpc.testing.SimpleRequest")
SimpleResponse = protos.message("grpc.testing.SimpleResponse")
StreamingInputCallRequest = protos.message("grpc.testing.StreamingInputCallRequest")
StreamingInputCallResponse = protos.message("grpc.testing.StreamingInputCallResponse")
StreamingOutputCallRequest = protos.message("grpc.testing.StreamingOutputCallRequest")
StreamingOutputCallResponse = protos.message("grpc.testing.StreamingOutputCallResponse")
ResponseParameters = protos.message("grpc.testing.ResponseParameters")

TIMEOUT = 10
UNARY = "/grpc.testing.TestService/UnaryCall"
STREAMING_INPUT = "/grpc.testing.TestService/StreamingInputCall"
STREAMING_OUTPUT = "/grpc.testing.TestService/StreamingOutputCall"
GZIP_REQUEST = [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")]
ACCEPT_GZIP = [("grpc-accept-encoding", "gzip")]


def zeros(n: int):
    return Payload(body=bytes(n))


def unary_request(expect_compressed: bool | None = None, response_compressed: bool | None = None):
    request = SimpleRequest(response_size=314159, payload=zeros(271828))
    if expect_compressed is not None:
        request.expect_compressed.CopyFrom(BoolValue(value=expect_compressed))
    if response_compressed is not None:
        request.response_compressed.CopyFrom(BoolValue(value=response_compressed))
    return request


def test_client_compressed_unary(test_service):
    # 1. The feature probe: expect_compressed, sent uncompressed, must fail.
    with pytest.raises(grpc.RpcError) as probe:
        test_service.UnaryCall(
            unary_request(expect_compressed=True),
            compression=grpc.Compression.NoCompression,
            timeout=TIMEOUT,
        )
    assert probe.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # 2. The same message compressed.
    reply = test_service.UnaryCall(
        unary_request(expect_compressed=True), compression=grpc.Compression.Gzip, timeout=TIMEOUT
    )
    assert reply.payload.body == bytes(314159)
    # 3. expect_compressed false, uncompressed.
    reply = test_service.UnaryCall(
        unary_request(expect_compressed=False),
        compression=grpc.Compression.NoCompression,
        timeout=TIMEOUT,
    )
    assert reply.payload.body == bytes(314159)


def test_client_compressed_unary_on_the_wire(raw):
    request = unary_request(expect_compressed=True).SerializeToString()
    probe = raw.call(UNARY, frame(request, compressed=False), headers=GZIP_REQUEST)
    assert probe.grpc_status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    compressed = raw.call(UNARY, frame(request, compressed=True), headers=GZIP_REQUEST)
    assert compressed.grpc_status == 0, compressed.grpc_message
    [reply] = compressed.decoded_messages()
    assert len(SimpleResponse.FromString(reply).payload.body) == 314159


def test_unsupported_request_encoding_is_unimplemented(raw):
    request = frame(unary_request().SerializeToString(), compressed=True)
    response = raw.call(UNARY, request, headers=[("grpc-encoding", "snappy")])
    assert response.http_status == 200
    assert response.grpc_status == grpc.StatusCode.UNIMPLEMENTED.value[0]
    # The spec: the server says which encodings it does accept.
    accepted = response.headers.get("grpc-accept-encoding", "") + "," + response.trailers.get(
        "grpc-accept-encoding", ""
    )
    assert "gzip" in [e.strip() for e in accepted.split(",")]


def test_server_compressed_unary(test_service):
    for compressed in (True, False):
        reply = test_service.UnaryCall(
            unary_request(response_compressed=compressed), timeout=TIMEOUT
        )
        assert reply.payload.body == bytes(314159)


@pytest.mark.parametrize("compressed", [True, False])
def test_server_compressed_unary_flag(raw, compressed):
    request = frame(unary_request(response_compressed=compressed).SerializeToString())
    response = raw.call(UNARY, request, headers=ACCEPT_GZIP)
    assert response.grpc_status == 0, response.grpc_message
    [(flag, _)] = response.messages()
    assert flag == (1 if compressed else 0)
    if flag:
        assert response.headers.get("grpc-encoding") == "gzip"
    [reply] = response.decoded_messages()
    assert len(SimpleResponse.FromString(reply).payload.body) == 314159


def streaming_input(expect_compressed: bool, size: int):
    return StreamingInputCallRequest(
        expect_compressed=BoolValue(value=expect_compressed), payload=zeros(size)
    )


def test_client_compressed_streaming(test_service, raw):
    # 1. The probe: expect_compressed, uncompressed, must fail with INVALID_ARGUMENT.
    with pytest.raises(grpc.RpcError) as probe:
        test_service.StreamingInputCall(
            iter([streaming_input(True, 27182)]),
            compression=grpc.Compression.NoCompression,
            timeout=TIMEOUT,
        )
    assert probe.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # 2. One call: the first message compressed, the second not (per-message flag).
    body = frame(streaming_input(True, 27182).SerializeToString(), compressed=True) + frame(
        streaming_input(False, 45904).SerializeToString(), compressed=False
    )
    response = raw.call(STREAMING_INPUT, body, headers=GZIP_REQUEST)
    assert response.grpc_status == 0, response.grpc_message
    [reply] = response.decoded_messages()
    assert StreamingInputCallResponse.FromString(reply).aggregated_payload_size == 73086
    # The same through grpcio (it compresses every message of a gzip call).
    reply = test_service.StreamingInputCall(
        iter([streaming_input(True, 27182), streaming_input(False, 45904)]),
        compression=grpc.Compression.Gzip,
        timeout=TIMEOUT,
    )
    assert reply.aggregated_payload_size == 73086


def server_streaming_request():
    return StreamingOutputCallRequest(
        response_parameters=[
            ResponseParameters(compressed=BoolValue(value=True), size=31415),
            ResponseParameters(compressed=BoolValue(value=False), size=92653),
        ]
    )


def test_server_compressed_streaming(test_service, raw):
    call = test_service.StreamingOutputCall(server_streaming_request(), timeout=TIMEOUT)
    assert [len(r.payload.body) for r in call] == [31415, 92653]
    assert call.code() == grpc.StatusCode.OK

    response = raw.call(
        STREAMING_OUTPUT, frame(server_streaming_request().SerializeToString()), headers=ACCEPT_GZIP
    )
    assert response.grpc_status == 0, response.grpc_message
    assert [flag for flag, _ in response.messages()] == [1, 0]
    assert response.headers.get("grpc-encoding") == "gzip"
    sizes = [
        len(StreamingOutputCallResponse.FromString(m).payload.body)
        for m in response.decoded_messages()
    ]
    assert sizes == [31415, 92653]
