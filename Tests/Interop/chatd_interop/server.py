"""Starts and stops the real chatd binary on an ephemeral loopback port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


REPO_ROOT = Path(__file__).resolve().parents[3]


def chatd_binary() -> Path:
    """CHATD_BINARY, or the debug build that scripts/test makes."""
    return Path(os.environ.get("CHATD_BINARY", REPO_ROOT / ".build" / "debug" / "chatd"))


def chatctl_binary() -> Path:
    """CHATCTL_BINARY, or the debug build that scripts/test makes."""
    return Path(os.environ.get("CHATCTL_BINARY", REPO_ROOT / ".build" / "debug" / "chatctl"))


# The HS256 secret the suite's chatd verifies tokens with (tokens.py mints with it).
TEST_JWT_SECRET = "interop-test-secret-0123456789abcdef-0123456789abcdef"


def fresh_database(base_url: str) -> str:
    """Creates an empty database on the cluster of `base_url` (scripts/pg's URL, database
    `postgres`) and returns its URL; chatd migrates it at start."""
    name = f"chatd_interop_{uuid.uuid4().hex[:12]}"
    subprocess.run(
        ["psql", base_url, "-v", "ON_ERROR_STOP=1", "-qc", f'CREATE DATABASE "{name}"'],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )
    return base_url.replace("/postgres?", f"/{name}?", 1)


def free_port() -> int:
    """A port the kernel just handed out (bind to 0); chatd binds it right after."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChatdProcess:
    """One chatd process: `--listen 127.0.0.1:PORT --enable-interop-testing`, output in a log.

    With `credentials` (grpc.ssl_channel_credentials) it serves TLS: pass the --tls-* flags in
    `extra_args`; readiness is then checked over TLS with those credentials.
    The metrics endpoint is off unless `metrics` is set: then it listens on a port the kernel
    picks (`--metrics-listen 127.0.0.1:0`), read back from the log, so servers that run side by
    side (this suite's, other checkouts') never fight over chatd's default port."""

    # Every chatd this run started, for the session's check that no secret reached a log.
    started: list["ChatdProcess"] = []

    def __init__(self, binary: Path, workdir: Path, extra_args: tuple[str, ...] = (),
                 extra_env: dict[str, str] | None = None,
                 credentials: grpc.ChannelCredentials | None = None,
                 listen_host: str = "127.0.0.1", metrics: bool = False):
        self.binary = binary
        self.workdir = workdir
        self.extra_args = extra_args
        self.extra_env = extra_env or {}
        self.credentials = credentials
        self.listen_host = listen_host
        self.metrics = metrics
        self.port = 0
        self.address = ""
        self.metrics_address = ""
        self.log_path = workdir / "chatd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.database_url: str | None = None

    def start(self, ready_timeout: float = 20.0, same_port: bool = False) -> None:
        if not self.binary.is_file():
            raise RuntimeError(f"chatd binary not found at {self.binary} (set CHATD_BINARY)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not (same_port and self.port):
            self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        env = dict(os.environ) | self.extra_env
        # A private data dir, a fresh database and the suite's token secret.
        env.setdefault("CHATD_DATA_DIR", str(self.workdir / "data"))
        env.setdefault("CHATD_JWT_SECRET", TEST_JWT_SECRET)
        if self.database_url:
            env["CHATD_DATABASE_URL"] = self.database_url
        env.setdefault("CHATD_METRICS_LISTEN", "127.0.0.1:0" if self.metrics else "off")
        if "CHATD_DATABASE_URL" not in env and env.get("CHATD_TEST_DATABASE_URL"):
            env["CHATD_DATABASE_URL"] = fresh_database(env["CHATD_TEST_DATABASE_URL"])
        self.database_url = env.get("CHATD_DATABASE_URL")
        self.env = env
        if self not in ChatdProcess.started:
            ChatdProcess.started.append(self)
        args = [str(self.binary), "--listen", f"{self.listen_host}:{self.port}",
                "--enable-interop-testing"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*args, *self.extra_args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.workdir,
            )
        self._wait_until_serving(ready_timeout)
        if self.metrics:
            self.metrics_address = self._wait_for_log_address("metrics listening", ready_timeout)

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        with self.open_channel() as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"chatd exited with {self.process.returncode} before serving\n"
                        + self.log_tail()
                    )
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                    last_error = f"health status {reply.status}"
                except grpc.RpcError as error:
                    last_error = f"{error.code()}: {error.details()}"
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"chatd did not answer health SERVING within {timeout:.0f}s ({last_error})\n"
            + self.log_tail()
        )

    def open_channel(self, credentials: grpc.ChannelCredentials | None = None) -> grpc.Channel:
        """A new channel: TLS when the server serves it (these or its own credentials)."""
        credentials = credentials or self.credentials
        if credentials is None:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, credentials)
    def _wait_for_log_address(self, message: str, timeout: float) -> str:
        """The `address=HOST:PORT` of the first log line with `msg="<message>"`."""
        pattern = re.compile(rf'msg="{re.escape(message)}".* address=(\S+)')
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = pattern.search(self.log_path.read_text(errors="replace"))
            if match:
                return match.group(1)
            time.sleep(0.05)
        raise RuntimeError(f"chatd never logged {message!r}\n" + self.log_tail())

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def assert_serving(self) -> None:
        """Alive, and answering health SERVING on a fresh connection."""
        assert self.is_running(), "chatd exited\n" + self.log_tail()
        with self.open_channel() as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5
            )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code (None if killed)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode

    def restart(self) -> None:
        """Stops gracefully and starts again on the same port and database."""
        self.stop()
        self.start(same_port=True)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no lease retired (a crashed instance)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def rss_kib(self) -> int:
        """The process's resident memory (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no chatd log)"
        return "--- chatd output (last lines) ---\n" + "\n".join(text[-lines:])
