"""A fake OneSignal: a real HTTP/1.1 server (http.server) on a loopback port that records every
request and answers as each test tells it to, per recipient (include_aliases.external_id)."""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What the fake answers: a status, a JSON body (default: a fresh notification id for a
    2xx; bytes are sent as they are), headers, and a delay before answering (a stall past
    chatd's timeout)."""
    status: int = 200
    body: object | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    raw: bytes
    at: float  # time.monotonic() on arrival

    @property
    def json(self) -> dict:
        return json.loads(self.raw)

    @property
    def recipient(self) -> str | None:
        try:
            return self.json["include_aliases"]["external_id"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class FakeOneSignal:
    def __init__(self, port: int = 0, tls: tuple[str, str] | None = None):
        self.port = port
        self.tls = tls  # (certificate chain file, key file): serve HTTPS with ALPN http/1.1
        self.requests: list[Request] = []
        self.lock = threading.Condition()
        self.scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> "FakeOneSignal":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path,
                                  {k.lower(): v for k, v in self.headers.items()}, raw,
                                  time.monotonic())
                answer = fake._record(request)
                if answer.delay:
                    time.sleep(answer.delay)
                body = answer.body
                if body is None:
                    body = {"id": str(uuid.uuid4())} if 200 <= answer.status < 300 else {}
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a stall past its timeout)

            do_POST = do_GET = do_PUT = do_DELETE = _handle

        self.server = _Server(("127.0.0.1", self.port), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            context.set_alpn_protocols(["http/1.1"])
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stops answering (connections are refused) until `start()` again, on the same port."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def answer(self, recipient: str, *answers: Answer) -> None:
        """The next answers for pushes to `recipient`; afterwards 200 with a fresh id."""
        with self.lock:
            self.scripts[recipient].extend(answers)

    def _record(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            self.lock.notify_all()
            script = self.scripts.get(request.recipient or "")
            return script.popleft() if script else Answer()

    def to(self, recipient: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.recipient == recipient]

    def wait_for(self, recipient: str, count: int = 1, timeout: float = 10.0) -> list[Request]:
        """The first `count` requests for `recipient`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(got := [r for r in self.requests if r.recipient == recipient]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{len(got)} of {count} pushes to {recipient} within {timeout}s")
                self.lock.wait(remaining)
            return got

    def __enter__(self) -> "FakeOneSignal":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
