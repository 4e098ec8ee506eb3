"""A listener that falls behind must catch up from the database, losing nothing.

One room; SubscribeRoom streams spread over every chatd instance given; a sender on the first
instance sends --messages at --rate. A third of the way in, the bus is disturbed:

  stop       SIGSTOP the last instance (--stop-pid) for --pause seconds: its LISTEN connection
             stops reading, PostgreSQL's NOTIFY queue holds what it has not read, its streams
             stall; then SIGCONT.
  terminate  pg_terminate_backend every chatd connection, pool and LISTEN alike, on every
             instance (a database failover looks like this): chatd reconnects, and each
             instance's listener resyncs every followed feed from the database. The sender
             retries a send that failed meanwhile with the same client_msg_id (idempotent).

At the end every subscriber must hold exactly the room's event seqs from the database (no
gap, no duplicate, in order). Prints one `workload=catchup ...` line per instance.

Run with the interop venv's python and Clients/python on PYTHONPATH; CHATD_JWT_SECRET is the
secret chatd verifies tokens with.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import grpc
import jwt

from chatd_client import connect
from chatd_client.chat.v1 import chat_service_pb2 as chat
from chatd_client.social.v1 import user_service_pb2 as users


def token(user: str) -> str:
    claims = {"sub": user, "name": user, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, os.environ["CHATD_JWT_SECRET"], algorithm="HS256")


def psql(url: str, sql: str) -> str:
    return subprocess.run(
        ["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True
    ).stdout


class Subscriber(threading.Thread):
    def __init__(self, target: str, user: str, room: str, after: int):
        super().__init__(daemon=True)
        self.client = connect(target, token(user))
        self.room, self.after = room, after
        self.seqs: list[int] = []
        self.arrivals: dict[int, float] = {}
        self.synced = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            stream = self.client.chat.SubscribeRoom(
                chat.SubscribeRoomRequest(room_id=self.room, after_seq=self.after))
            self.stream = stream
            for event in stream:
                kind = event.WhichOneof("event")
                if kind == "synced":
                    self.synced.set()
                elif event.seq > 0:
                    self.seqs.append(event.seq)
                    self.arrivals.setdefault(event.seq, time.monotonic())
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.error = f"{error.code()}: {error.details()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", action="append", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subscribers", type=int, default=30, help="per instance")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--disturb", choices=["stop", "terminate"], required=True)
    parser.add_argument("--stop-pid", type=int)
    parser.add_argument("--pause", type=float, default=5)
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    owner = f"owner-{run}"
    total = args.subscribers * len(args.target)
    # More than 50 members: no `delivered` events, so the room's log is the messages.
    members = [f"m{i}-{run}" for i in range(max(total, 60))]
    setup = connect(args.target[0], token(owner))
    for user in members:  # users exist once they have called anything
        with connect(args.target[0], token(user)) as client:
            client.users.GetMe(users.GetMeRequest())
    room = setup.chat.CreateGroup(chat.CreateGroupRequest(title=run, member_user_ids=members))

    subscribers = []
    for index in range(total):
        target = args.target[index % len(args.target)]
        subscribers.append(Subscriber(target, members[index], room.id, room.last_seq))
    for s in subscribers:
        s.start()
    for s in subscribers:
        if not s.synced.wait(60):
            sys.exit(f"a stream did not sync: {s.error}")

    sent: dict[int, float] = {}
    queue_usage = 0.0
    retries = 0
    disturbed_at = resumed_at = 0.0
    interval = 1 / args.rate
    start = time.monotonic()
    for n in range(args.messages):
        if n == args.messages // 3:
            disturbed_at = time.monotonic()
            if args.disturb == "stop":
                os.kill(args.stop_pid, signal.SIGSTOP)
            else:
                killed = psql(
                    args.database_url,
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'chatd'",
                )
                print(f"terminated {killed.strip()} chatd connections", file=sys.stderr)
                resumed_at = time.monotonic()
        if args.disturb == "stop" and disturbed_at and not resumed_at:
            if time.monotonic() - disturbed_at >= args.pause:
                queue_usage = float(
                    psql(args.database_url, "SELECT pg_notification_queue_usage()") or 0)
                os.kill(args.stop_pid, signal.SIGCONT)
                resumed_at = time.monotonic()
        request = chat.SendMessageRequest(room_id=room.id, client_msg_id=f"{run}-{n}", body=f"n{n}")
        for attempt in range(50):
            try:
                message = setup.chat.SendMessage(request)
                break
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == 49:
                    raise
                retries += 1
                time.sleep(0.05)
        sent.setdefault(message.seq, time.monotonic())
        next_at = start + (n + 1) * interval
        time.sleep(max(0, next_at - time.monotonic()))
    if args.disturb == "stop" and not resumed_at:
        os.kill(args.stop_pid, signal.SIGCONT)
        resumed_at = time.monotonic()

    expected = [
        int(x) for x in psql(
            args.database_url,
            f"SELECT seq FROM room_events WHERE room_id = '{room.id}' "
            f"AND seq > {room.last_seq} ORDER BY seq",
        ).split()
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(len(s.seqs) >= len(expected) for s in subscribers):
            break
        time.sleep(0.1)
    time.sleep(0.5)  # anything beyond the expected would show up as a duplicate now

    for index, target in enumerate(args.target):
        mine = subscribers[index :: len(args.target)]
        exact = sum(1 for s in mine if s.seqs == expected)
        missing = sum(len(set(expected) - set(s.seqs)) for s in mine)
        duplicates = sum(len(s.seqs) - len(set(s.seqs)) for s in mine)
        latencies = sorted(
            s.arrivals[q] - sent[q] for s in mine for q in s.arrivals if q in sent)
        # Messages sent while the bus was disturbed, and how long the last of them took.
        during = [q for q, t in sent.items() if disturbed_at <= t <= (resumed_at or t)]
        caught_up = max(
            (s.arrivals.get(q, float("inf")) for s in mine for q in during), default=0.0)
        fields = {
            "workload": "catchup",
            "disturb": args.disturb,
            "instance": index,
            "target": target,
            "disturbed": int(args.disturb == "terminate" or index == len(args.target) - 1),
            "subscribers": len(mine),
            "events": len(expected),
            "exact": exact,
            "missing": missing,
            "duplicates": duplicates,
            "errors": sum(1 for s in mine if s.error),
            "p50_ms": f"{latencies[len(latencies) // 2] * 1000:.1f}" if latencies else "0",
            "max_ms": f"{latencies[-1] * 1000:.0f}" if latencies else "0",
            "caught_up_s_after_resume": f"{max(0.0, caught_up - resumed_at):.2f}",
            "pause_s": f"{(resumed_at - disturbed_at):.1f}",
        }
        if args.disturb == "stop":
            fields["notify_queue_usage"] = f"{queue_usage:.2e}"
        else:
            fields["send_retries"] = retries
        print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    for s in subscribers:
        if hasattr(s, "stream"):
            s.stream.cancel()
    failed = any(s.seqs != expected for s in subscribers)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
