"""A deliberately small gRPC-over-HTTP/2 client on the `h2` package.

grpcio hides the wire: it cannot set the per-message compressed flag, show the flag of a
response message, or send malformed frames. This client sends exactly the bytes a test asks
for and returns what came back, and never waits without a bound.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def frame(message: bytes, compressed: bool = False) -> bytes:
    """The gRPC length-prefixed message: flag byte, 4-byte big-endian length, body."""
    body = gzip.compress(message) if compressed else message
    return struct.pack(">BI", 1 if compressed else 0, len(body)) + body


def unframe(data: bytes) -> list[tuple[int, bytes]]:
    """Splits a response body into (compressed flag, payload) pairs; payloads as sent."""
    messages = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 5:
            raise ValueError(f"truncated gRPC prefix at offset {offset}")
        flag, length = struct.unpack_from(">BI", data, offset)
        offset += 5
        if len(data) - offset < length:
            raise ValueError(f"gRPC message at offset {offset} is truncated")
        messages.append((flag, data[offset : offset + length]))
        offset += length
    return messages


@dataclass
class RawResponse:
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""
    trailers: dict[str, str] = field(default_factory=dict)
    reset_code: int | None = None
    connection_error: int | None = None

    @property
    def http_status(self) -> int | None:
        status = self.headers.get(":status")
        return int(status) if status is not None else None

    @property
    def grpc_status(self) -> int | None:
        """From the trailers, or from the headers of a trailers-only response."""
        status = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return int(status) if status is not None else None

    @property
    def grpc_message(self) -> str | None:
        return self.trailers.get("grpc-message", self.headers.get("grpc-message"))

    def messages(self) -> list[tuple[int, bytes]]:
        return unframe(self.data)

    def decoded_messages(self) -> list[bytes]:
        return [gzip.decompress(p) if flag else p for flag, p in self.messages()]


class RawConnection:
    """One HTTP/2 connection (h2c, prior knowledge) to `address` ("host:port")."""

    def __init__(self, address: str, timeout: float = 10.0):
        host, port = address.rsplit(":", 1)
        self.address = address
        self.timeout = timeout
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self._flush()
        self.closed = False
        self.goaway_received = False
        self.responses: dict[int, RawResponse] = {}
        self.finished: set[int] = set()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self._flush()
        except Exception:
            pass
        self.sock.close()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(self, path: str, headers: list[tuple[str, str]] | None = None,
              content_type: str = "application/grpc") -> int:
        """Sends the request HEADERS of a new stream; returns its id."""
        stream_id = self.conn.get_next_available_stream_id()
        request_headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", self.address),
            (":path", path),
            ("content-type", content_type),
            ("te", "trailers"),
            *(headers or []),
        ]
        self.conn.send_headers(stream_id, request_headers)
        self.responses[stream_id] = RawResponse()
        self._flush()
        return stream_id

    def send(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        """Sends DATA within the peer's flow-control windows, reading while it waits."""
        deadline = time.monotonic() + self.timeout
        offset = 0
        while offset < len(data):
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size)
            if window <= 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("peer never opened its flow-control window")
                self._read_once(0.2)
                if stream_id in self.finished or self.closed:
                    return  # the server answered early (e.g. a size limit): stop sending
                continue
            chunk = data[offset : offset + window]
            offset += len(chunk)
            try:
                self.conn.send_data(stream_id, chunk,
                                    end_stream=end_stream and offset == len(data))
            except h2.exceptions.StreamClosedError:
                return
            self._flush()
        if end_stream and not data:
            self.conn.end_stream(stream_id)
            self._flush()

    def end(self, stream_id: int) -> None:
        self.conn.end_stream(stream_id)
        self._flush()

    def wait(self, stream_id: int, timeout: float | None = None) -> RawResponse:
        """Reads until the stream ends, is reset, or the connection closes."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while stream_id not in self.finished and not self.closed:
            if time.monotonic() > deadline:
                raise TimeoutError(f"stream {stream_id} did not finish: the server hangs")
            self._read_once(deadline - time.monotonic())
        return self.responses[stream_id]

    def call(self, path: str, body: bytes, headers: list[tuple[str, str]] | None = None,
             content_type: str = "application/grpc", timeout: float | None = None) -> RawResponse:
        """A whole request: HEADERS, the body (already framed) with END_STREAM, the answer."""
        stream_id = self.start(path, headers, content_type)
        self.send(stream_id, body, end_stream=True)
        return self.wait(stream_id, timeout)

    def wait_closed(self, timeout: float) -> None:
        """Reads (answering PINGs) until the server sends GOAWAY or closes the connection."""
        deadline = time.monotonic() + timeout
        while not self.closed and not self.goaway_received:
            if time.monotonic() > deadline:
                raise TimeoutError("the server kept the connection open")
            self._read_once(deadline - time.monotonic())

    def _read_once(self, timeout: float | None = None) -> None:
        self.sock.settimeout(max(0.05, timeout if timeout is not None else self.timeout))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            # h2 refuses frames after a GOAWAY that HTTP/2 allows (the PING of a graceful
            # shutdown, DATA of draining streams), even within the GOAWAY's own read.
            if self.conn.state_machine.state == h2.connection.ConnectionState.CLOSED:
                self.goaway_received = True
                return
            raise
        for event in events:
            self._handle(event)
        self._flush()

    def _handle(self, event) -> None:
        stream_id = getattr(event, "stream_id", None)
        response = self.responses.get(stream_id) if stream_id else None
        if isinstance(event, h2.events.ResponseReceived) and response is not None:
            response.headers.update(dict(event.headers))
        elif isinstance(event, h2.events.DataReceived):
            if response is not None:
                response.data += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived) and response is not None:
            response.trailers.update(dict(event.headers))
        elif isinstance(event, h2.events.StreamEnded):
            self.finished.add(stream_id)
        elif isinstance(event, h2.events.StreamReset):
            if response is not None:
                response.reset_code = int(event.error_code)
            self.finished.add(stream_id)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway_received = True
            for response in self.responses.values():
                response.connection_error = int(event.error_code)
            self.closed = True
