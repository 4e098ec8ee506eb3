"""The pieces scripts/chaos and scripts/soak share: a throwaway PostgreSQL, chatd instances on it
with push on against the fake OneSignal, simulated users that send with retries, subscribers
that resume, a TCP proxy that can cut connections, and the queries that read the truth back
from the database.

Everything is real: the chatd binary, PostgreSQL, grpcio clients, an HTTP server for OneSignal.
The interop suite's helpers (Tests/Interop/chatd_interop) start the processes."""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Interop"))

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from chatd_interop import protos  # noqa: E402
from chatd_interop.onesignal import Answer, FakeOneSignal  # noqa: E402
from chatd_interop.postgres import Cluster  # noqa: E402
from chatd_interop.server import ChatdProcess, fresh_database, free_port  # noqa: E402
from chatd_interop.users import User  # noqa: E402

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
API_KEY = "os_v2_app_chaos_key"
PUSH_TIMEOUT = 1.0  # --onesignal-timeout: a stall of the fake lasts longer than this

# Codes a well-behaved client retries with the same client_msg_id: the server is away, or the
# call outlived its deadline (it may have committed: the retry returns the original).
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

# Reconnect quickly: the default backoff (up to 2 minutes) would measure grpcio, not chatd.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def load_protos() -> None:
    """Generates and loads the stubs, unless the interop suite's conftest already did."""
    try:
        protos.message("chat.v1.SendMessageRequest")
        return
    except KeyError:
        pass
    stubs = Path(os.environ.get("CHATD_INTEROP_STUBS", REPO_ROOT / ".build" / "chaos-stubs"))
    protos.generate(REPO_ROOT / "Proto", stubs)
    protos.activate(stubs)


def M(name, **fields):
    return protos.message(name)(**fields)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the fake OneSignal, breakable -------------------------------------------------------------

@dataclass
class PushRecord:
    key: str
    recipient: str
    message_id: str
    status: int
    stalled: bool


class BreakableOneSignal(FakeOneSignal):
    """The interop suite's fake OneSignal with a switch for the whole service: `mode` "ok",
    "500" (every request answered 500) or "stall" (answered 200 after chatd's timeout, so chatd
    records a failure although the fake saw the request). Every request is kept as a
    PushRecord."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"
        self.records: list[PushRecord] = []

    def _record(self, request):
        answer = super()._record(request)
        mode = self.mode
        if mode == "500":
            answer = Answer(status=500)
        elif mode == "stall":
            answer = Answer(delay=PUSH_TIMEOUT + 1.5)
        try:
            body = request.json
            key = body.get("idempotency_key", "")
            message_id = body.get("data", {}).get("message_id", "")
        except ValueError:
            key, message_id = "", ""
        with self.lock:
            self.records.append(PushRecord(key, request.recipient or "", message_id,
                                           answer.status, answer.delay > 0))
            # The base class keeps every request too; only the records are needed.
            self.requests.clear()
        return answer


# --- PostgreSQL ------------------------------------------------------------------------------

class Database:
    """A throwaway cluster (scripts/pg) with one database for the run, plus the faults."""

    def __init__(self, prefix: str = "chatd-chaos-pg.") -> None:
        self.cluster = Cluster(prefix=prefix)
        self.url = fresh_database(self.cluster.url)
        self.data = self.cluster.folder / "data"

    def psql(self, sql: str, timeout: float = 60) -> list[list[str]]:
        out = subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t",
                              "-c", sql], check=True, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=timeout).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def _pg_ctl(self, *args: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL,
                       timeout=120)

    def restart(self, mode: str) -> None:
        """pg_ctl restart -m fast (sessions ended cleanly) or immediate (a crash: recovery)."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "-l",
                     str(self.cluster.folder / "postgres.log"), "restart")

    def processes(self) -> list[int]:
        """The postmaster and every process it forked (backends, checkpointer, walwriter…)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
        return [postmaster, *children]

    def pause(self) -> list[int]:
        """SIGSTOP to the postmaster first (no new backends), then to every child."""
        pids = self.processes()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    def resume(self, pids: list[int]) -> None:
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def connections(self) -> int:
        """Client backends on the cluster (chatd's pools and listeners, and this query)."""
        rows = self.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        return int(rows[0][0])

    def destroy(self) -> None:
        self.cluster.destroy()


# --- chatd instances ------------------------------------------------------------------------

def push_args(fake_url: str) -> tuple[str, ...]:
    return ("--onesignal-app-id", APP_ID, "--onesignal-api-key", API_KEY,
            "--onesignal-api-url", fake_url, "--onesignal-timeout", str(PUSH_TIMEOUT),
            "--onesignal-retry-delay", "0.2", "--onesignal-max-attempts", "40")


class Instance:
    """One chatd on the shared database, its metrics on a fixed port (so a restart keeps it)."""

    def __init__(self, name: str, binary: Path, workdir: Path, database_url: str,
                 extra_args: tuple[str, ...]) -> None:
        self.name = name
        self.metrics_port = free_port()
        self.process = ChatdProcess(
            binary, workdir / name,
            extra_args=("--rate-limit", "off", "--heartbeat-interval", "1", *extra_args),
            extra_env={"CHATD_DATABASE_URL": database_url,
                       "CHATD_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}"})
        self.process.database_url = database_url

    @property
    def address(self) -> str:
        return self.process.address

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def start(self) -> None:
        self.process.start(ready_timeout=60, same_port=True)

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> int | None:
        return self.process.stop(grace=20)

    def serving(self, timeout: float = 1.0) -> bool:
        try:
            with grpc.insecure_channel(self.address) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    def metrics(self) -> dict[str, float]:
        """The /metrics samples, summed over labels per metric name."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as response:
            text = response.read().decode()
        values: dict[str, float] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            try:
                values[name] = values.get(name, 0.0) + float(value)
            except ValueError:
                pass
            if "{" in name_labels:
                values[name_labels] = float(value)
        return values

    def rss_kib(self) -> int:
        return self.process.rss_kib()

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


# --- a TCP proxy that can cut its connections -----------------------------------------------

class Proxy:
    """Forwards 127.0.0.1:port to a chatd; `cut()` closes every connection through it at once
    (the client sees its connection die mid-stream, as when a phone changes network)."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=2)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> int:
        """Closes every open connection (RST-free: a shutdown, as a dead NAT would not even
        send). Returns how many were cut."""
        with self.lock:
            victims = list(self.sockets)
        for s in victims:
            self._close(s)
        return len(victims) // 2

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        self.cut()


# --- simulated users ------------------------------------------------------------------------

@dataclass
class Ack:
    client_msg_id: str
    sender: str
    room: str
    message_id: str
    seq: int
    started: float  # time.monotonic() when the successful attempt started
    at: float  # when its answer came


@dataclass
class Population:
    users: list  # User objects (stubs of the first instance; senders make their own)
    rooms: dict  # room id -> member ids
    service: object  # a service-role user (subscribes to any room)
    silent: set  # ids of members who never send (the last of each room)


def make_population(channel: grpc.Channel, rooms: int, members: int) -> Population:
    users = [User(channel, f"Chaos{i}") for i in range(rooms * members)]
    for user in users:
        user.me()
    by_room = {}
    for r in range(rooms):
        group = users[r * members:(r + 1) * members]
        room = group[0].chat.CreateGroup(M("chat.v1.CreateGroupRequest", title=f"chaos {r}",
                                           member_user_ids=[u.id for u in group[1:]]))
        by_room[room.id] = [u.id for u in group]
    service = User(channel, "ChaosService", role="service")
    return Population(users, by_room, service, {members[-1] for members in by_room.values()})


class Channels:
    """One grpcio channel per address, shared by the threads that use it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.channels: dict[str, grpc.Channel] = {}

    def get(self, address: str, owner: str = "") -> grpc.Channel:
        """The channel to `address` shared by everyone, or owned by `owner` alone (its own
        connection)."""
        key = f"{address}/{owner}"
        with self.lock:
            if key not in self.channels:
                # A distinct argument keeps grpcio from sharing one subchannel (connection).
                options = [*CHANNEL_OPTIONS, ("chaos.owner", owner)] if owner else CHANNEL_OPTIONS
                self.channels[key] = grpc.insecure_channel(address, options=options)
            return self.channels[key]

    def close(self) -> None:
        with self.lock:
            for channel in self.channels.values():
                channel.close()


class Sender(threading.Thread):
    """A user who posts to their rooms: one message at a time, a new client_msg_id per message,
    the same one on every retry (on UNAVAILABLE or DEADLINE_EXCEEDED, moving to the next
    instance). Records every acknowledged message; other errors are counted as unexpected."""

    def __init__(self, user, rooms: list[str], addresses: list[str], channels: Channels,
                 stop: threading.Event, pause: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.user = user
        self.rooms = rooms
        self.addresses = addresses
        self.channels = channels
        self.stop_event = stop
        self.pause = pause
        self.rng = random.Random(seed)
        self.acks: list[Ack] = []
        self.retries = 0
        self.unexpected: list[str] = []
        self.target = seed % len(addresses)

    def _send_once(self, room: str, client_msg_id: str, body: str):
        channel = self.channels.get(self.addresses[self.target])
        stub = protos.stub(channel, "chat.v1.ChatService")
        return stub.SendMessage(M("chat.v1.SendMessageRequest", room_id=room, body=body,
                                  client_msg_id=client_msg_id),
                                metadata=(("authorization", f"Bearer {self.user.token}"),),
                                timeout=3)

    def run(self) -> None:
        while not self.stop_event.is_set():
            room = self.rng.choice(self.rooms)
            client_msg_id = str(uuid.uuid4())
            body = f"{self.user.name} {len(self.acks)}"
            # Once started, a message is retried until acknowledged (even past stop: a real
            # client's outbox keeps it), bounded only so a dead run still ends.
            give_up = None
            while True:
                started = time.monotonic()
                try:
                    message = self._send_once(room, client_msg_id, body)
                except grpc.RpcError as error:
                    if error.code() not in RETRYABLE:
                        self.unexpected.append(f"{error.code().name}: {error.details()}")
                    self.retries += 1
                    self.target = (self.target + 1) % len(self.addresses)
                    if self.stop_event.is_set():
                        give_up = give_up or time.monotonic() + 60
                        if time.monotonic() > give_up:
                            self.unexpected.append(f"gave up on {client_msg_id} after stop")
                            break
                    time.sleep(0.1)
                    continue
                self.acks.append(Ack(client_msg_id, self.user.id, room, message.id,
                                     message.seq, started, time.monotonic()))
                break
            time.sleep(self.pause * self.rng.uniform(0.5, 1.5))


class Subscriber(threading.Thread):
    """A service-role client tailing one room with SubscribeRoom from seq 0. On any end of its
    stream (an error, or silence past `silence` seconds although heartbeats come every second)
    it resubscribes after the last seq it saw, on the next of its addresses. Keeps every
    persisted event's (seq, message id) and when each arrived."""

    def __init__(self, name: str, service, room: str, addresses: list[str], channels: Channels,
                 finish: threading.Event, final_seq: dict, silence: float = 8.0) -> None:
        super().__init__(daemon=True)
        self.name = name
        self.service = service
        self.room = room
        self.addresses = addresses
        self.channels = channels
        self.finish = finish  # set when the writers have stopped and final_seq is known
        self.final_seq = final_seq
        self.silence = silence
        self.events: list[tuple[int, str]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each persisted event
        self.resumes = 0
        self.ends: list[str] = []
        self.target = hash(name) % len(addresses)
        self.done = threading.Event()
        self.call = None

    @property
    def last(self) -> int:
        return self.events[-1][0] if self.events else 0

    def _finished(self) -> bool:
        return self.finish.is_set() and self.last >= self.final_seq.get(self.room, 1 << 62)

    def run(self) -> None:
        try:
            while not self._finished():
                self._one_stream()
                if not self._finished():
                    self.resumes += 1
                    self.target = (self.target + 1) % len(self.addresses)
                    time.sleep(0.1)
        finally:
            self.done.set()

    def _one_stream(self) -> None:
        channel = self.channels.get(self.addresses[self.target], self.name)
        stub = protos.stub(channel, "chat.v1.ChatService")
        call = stub.SubscribeRoom(M("chat.v1.SubscribeRoomRequest", room_id=self.room,
                                    after_seq=self.last),
                                  metadata=(("authorization", f"Bearer {self.service.token}"),))
        self.call = call
        inbox: queue.Queue = queue.Queue()

        def read():
            try:
                for event in call:
                    inbox.put(event)
                inbox.put("ended: OK")
            except grpc.RpcError as error:
                inbox.put(f"ended: {error.code().name} {error.details()}")

        threading.Thread(target=read, daemon=True).start()
        try:
            while not self._finished():
                try:
                    item = inbox.get(timeout=self.silence)
                except queue.Empty:
                    self.ends.append("silent")
                    return
                if isinstance(item, str):
                    self.ends.append(item)
                    return
                kind = item.WhichOneof("event")
                if kind in ("heartbeat", "synced", "typing") or item.seq == 0:
                    continue
                message_id = item.message_created.id if kind == "message_created" else ""
                self.events.append((item.seq, message_id))
                self.arrivals.append(time.monotonic())
        finally:
            call.cancel()


# --- the truth, from the database -----------------------------------------------------------

def stored_messages(db: Database) -> dict[str, list[tuple[str, str, int]]]:
    """client_msg_id -> every stored (message id, room, seq) with it (more than one: a dup)."""
    stored: dict[str, list[tuple[str, str, int]]] = {}
    for mid, cmid, room, seq in db.psql(
            "SELECT id, client_msg_id, room_id, seq FROM messages", timeout=300):
        stored.setdefault(cmid, []).append((mid, room, int(seq)))
    return stored


def room_sequence(db: Database, room: str) -> list[tuple[int, str]]:
    return [(int(seq), mid) for seq, mid in db.psql(
        f"SELECT seq, coalesce(message_id::text, '') FROM room_events "
        f"WHERE room_id = '{room}' ORDER BY seq", timeout=300)]
