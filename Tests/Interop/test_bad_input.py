"""Malformed input over raw sockets: each gets a clear gRPC status or a clean connection
error, never a hang, and the server keeps serving afterwards (checked after every test)."""

import socket
import struct
import time

import grpc
import pytest

from chatd_interop.raw_grpc import RawConnection, frame

CHECK = "/grpc.health.v1.Health/Check"
INTERNAL = grpc.StatusCode.INTERNAL.value[0]
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]
UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED.value[0]


@pytest.fixture(autouse=True)
def server_still_serves(chatd):
    yield
    chatd.assert_serving()


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes; fails if it keeps the socket open."""
    deadline = time.monotonic() + timeout
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    pytest.fail(f"the server kept the connection open for {timeout}s after a bad preface")


@pytest.mark.parametrize(
    "preface",
    [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",  # the right length, the wrong magic
        b"\x00" * 64,
    ],
)
def test_invalid_preface_closes_the_connection(address, preface):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(preface)
        # A GOAWAY first is welcome but optional: the point is a prompt, clean close.
        read_until_closed(sock, timeout=5)


def test_length_prefix_larger_than_body(raw):
    body = struct.pack(">BI", 0, 100) + b"\x00" * 10  # promises 100 bytes, sends 10
    response = raw.call(CHECK, body, timeout=5)
    assert response.http_status == 200
    assert response.grpc_status in (INTERNAL, INVALID_ARGUMENT), response
    assert response.grpc_message


def test_truncated_prefix(raw):
    response = raw.call(CHECK, b"\x00\x00\x00", timeout=5)  # 3 of the 5 prefix bytes
    assert response.http_status == 200
    assert response.grpc_status in (INTERNAL, INVALID_ARGUMENT), response


def test_garbage_protobuf_to_health_check(channel):
    check = channel.unary_unary(CHECK)  # raw bytes in and out
    with pytest.raises(grpc.RpcError) as info:
        check(b"\xff\xff\xff\xff\xff", timeout=5)  # a field key whose varint never ends
    assert info.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL)


def test_garbage_protobuf_over_the_wire(raw):
    response = raw.call(CHECK, frame(b"\x0a\xff\xff\xff\x0f"), timeout=5)  # length past the end
    assert response.grpc_status in (INTERNAL, INVALID_ARGUMENT), response


def test_non_grpc_content_type_is_415(raw):
    response = raw.call(CHECK, b"{}", content_type="application/json", timeout=5)
    assert response.http_status == 415


def test_unknown_method_is_unimplemented_with_http_200(raw):
    response = raw.call("/grpc.health.v1.Health/NoSuchMethod", frame(b""), timeout=5)
    assert response.http_status == 200
    assert response.grpc_status == UNIMPLEMENTED


def test_unknown_service_is_unimplemented_with_http_200(raw):
    response = raw.call("/no.such.Service/Method", frame(b""), timeout=5)
    assert response.http_status == 200
    assert response.grpc_status == UNIMPLEMENTED


def test_compressed_flag_without_grpc_encoding(raw):
    # The spec: a compressed message with no (or identity) grpc-encoding is an INTERNAL error.
    response = raw.call(CHECK, frame(b"", compressed=True), timeout=5)
    assert response.grpc_status in (INTERNAL, INVALID_ARGUMENT), response


def test_reset_mid_call_leaves_the_connection_usable(address):
    with RawConnection(address) as connection:
        stream = connection.start("/grpc.testing.TestService/FullDuplexCall")
        connection.conn.reset_stream(stream, error_code=8)  # CANCEL
        connection._flush()
        response = connection.call(CHECK, frame(b""), timeout=5)
        assert response.grpc_status == 0
        [(flag, payload)] = response.messages()
        assert (flag, payload) == (0, b"\x08\x01")  # HealthCheckResponse{status: SERVING}
