"""The per-connection cap on concurrent streams (--max-concurrent-streams, advertised as
SETTINGS_MAX_CONCURRENT_STREAMS). Raw frames (hyperframe, hpack) rather than the h2 client:
h2 refuses locally to open streams past the peer's limit, and these tests must."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import hpack
import pytest
from hyperframe.frame import (DataFrame, Frame, GoAwayFrame, HeadersFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

from chatd_interop import protos
from chatd_interop.raw_grpc import frame
from chatd_interop.server import ChatdProcess, chatd_binary

CAP = 2
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REFUSED_STREAM = 0x7
PROTOCOL_ERROR = 0x1
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"

StreamingOutputCallRequest = protos.message("grpc.testing.StreamingOutputCallRequest")
ResponseParameters = protos.message("grpc.testing.ResponseParameters")


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("capped-chatd"),
                          extra_args=("--max-concurrent-streams", str(CAP)))
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


class Frames:
    """An HTTP/2 connection driven frame by frame, with no client-side rule enforcement."""

    def __init__(self, address: str):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.address = address
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, *frames: Frame | bytes) -> None:
        self.sock.sendall(b"".join(f if isinstance(f, bytes) else f.serialize() for f in frames))

    def open_stream(self, stream_id: int) -> HeadersFrame:
        """The HEADERS of a FullDuplexCall that stays open (no END_STREAM)."""
        headers = HeadersFrame(stream_id, flags=["END_HEADERS"])
        headers.data = self.encoder.encode([
            (":method", "POST"), (":scheme", "http"), (":authority", self.address),
            (":path", FULL_DUPLEX), ("content-type", "application/grpc"), ("te", "trailers"),
        ])
        return headers

    @staticmethod
    def finish_stream(stream_id: int) -> DataFrame:
        """One empty request message and END_STREAM: the call then ends with OK."""
        data = DataFrame(stream_id, flags=["END_STREAM"])
        data.data = frame(StreamingOutputCallRequest().SerializeToString())
        return data

    def next_frame(self, deadline: float) -> Frame | None:
        """The next frame from the server; None once the connection closed."""
        while True:
            if len(self.buffer) >= 9:
                header, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
                if len(self.buffer) >= 9 + length:
                    header.parse_body(memoryview(self.buffer[9 : 9 + length]))
                    self.buffer = self.buffer[9 + length :]
                    if isinstance(header, HeadersFrame):
                        header.decoded = dict(self.decoder.decode(bytes(header.data)))
                    return header
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buffer += chunk

    def read_until(self, done, timeout: float = 5.0) -> list[Frame]:
        """Frames until `done(frames)` holds (or the connection closed); answers SETTINGS."""
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout
        while not done(frames):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting; frames so far: {frames}")
            received = self.next_frame(deadline)
            if received is None:
                break
            frames.append(received)
            if isinstance(received, SettingsFrame) and "ACK" not in received.flags:
                self.send(SettingsFrame(0, flags=["ACK"]))
        return frames


def grpc_status(frames: list[Frame], stream_id: int) -> str | None:
    for f in frames:
        if isinstance(f, HeadersFrame) and f.stream_id == stream_id:
            if "grpc-status" in f.decoded:
                return f.decoded["grpc-status"]
    return None


def ended(stream_ids):
    """A `read_until` condition: every stream got its grpc-status or a reset."""
    def done(frames):
        return all(
            grpc_status(frames, s) is not None
            or any(isinstance(f, RstStreamFrame) and f.stream_id == s for f in frames)
            for s in stream_ids)
    return done


def test_settings_advertise_the_cap(capped):
    connection = Frames(capped.address)
    try:
        connection.send(PREFACE, SettingsFrame(0))
        frames = connection.read_until(lambda fs: any(isinstance(f, SettingsFrame) for f in fs))
        settings = next(f for f in frames if isinstance(f, SettingsFrame))
        assert settings.settings[SettingsFrame.MAX_CONCURRENT_STREAMS] == CAP
    finally:
        connection.close()


def test_a_stream_past_the_cap_is_refused_and_the_others_carry_on(capped):
    """Streams opened before the client saw the server's SETTINGS (allowed by HTTP/2): the
    one past the cap gets RST_STREAM REFUSED_STREAM, which gRPC clients retry safely."""
    connection = Frames(capped.address)
    try:
        connection.send(PREFACE, SettingsFrame(0), WindowUpdateFrame(0, window_increment=1 << 20),
                        *(connection.open_stream(s) for s in (1, 3, 5)))
        frames = connection.read_until(
            lambda fs: any(isinstance(f, RstStreamFrame) and f.stream_id == 5 for f in fs))
        reset = next(f for f in frames if isinstance(f, RstStreamFrame))
        assert (reset.stream_id, reset.error_code) == (5, REFUSED_STREAM)
        assert not any(isinstance(f, GoAwayFrame) for f in frames)

        # The streams within the cap still complete, and a new one fits once they did.
        connection.send(Frames.finish_stream(1), Frames.finish_stream(3))
        frames += connection.read_until(ended([1, 3]))
        assert grpc_status(frames, 1) == "0" and grpc_status(frames, 3) == "0"
        connection.send(connection.open_stream(7), Frames.finish_stream(7))
        frames += connection.read_until(ended([7]))
        assert grpc_status(frames, 7) == "0"
    finally:
        connection.close()


def test_a_client_ignoring_the_acknowledged_cap_loses_the_connection(capped):
    """Past an acknowledged limit, nghttp2 ends the connection with GOAWAY PROTOCOL_ERROR
    (RFC 9113 §5.1.2 would also allow a stream error): no handler runs for the extra stream,
    and the server keeps serving everyone else."""
    connection = Frames(capped.address)
    try:
        connection.send(PREFACE, SettingsFrame(0))
        # Settings acknowledged both ways: the server's (read_until answers them) and ours.
        def acknowledged(frames):
            return {"ACK" in f.flags for f in frames if isinstance(f, SettingsFrame)} == {
                True, False}

        connection.read_until(acknowledged)
        connection.send(*(connection.open_stream(s) for s in (1, 3, 5)))
        frames = connection.read_until(lambda fs: any(isinstance(f, GoAwayFrame) for f in fs))
        goaway = next(f for f in frames if isinstance(f, GoAwayFrame))
        assert goaway.error_code == PROTOCOL_ERROR
        assert goaway.last_stream_id <= 3
    finally:
        connection.close()
    capped.assert_serving()


def test_grpc_clients_queue_calls_past_the_cap(capped):
    """A real client honours the setting: more concurrent calls than the cap on one channel
    wait for a free stream and all succeed."""
    calls = 3 * CAP
    request = StreamingOutputCallRequest(
        response_parameters=[ResponseParameters(size=1, interval_us=50_000)] * 3)
    with grpc.insecure_channel(capped.address) as channel:
        stub = protos.stub(channel, "grpc.testing.TestService")

        def call(_):
            return len(list(stub.StreamingOutputCall(request, timeout=30)))

        with ThreadPoolExecutor(calls) as pool:
            assert list(pool.map(call, range(calls))) == [3] * calls
