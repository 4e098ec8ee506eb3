"""Soak: one chatd (push on, against the fake OneSignal) under a modest mixed load for a long
time, sampled every --interval seconds; fails when a resource grows without bound.

    scripts/soak                          one hour
    scripts/soak --duration 600 --interval 5 --csv /tmp/soak.csv

The load, all through grpcio: users sending (with client_msg_id and retries), room
subscribers that come and go (each stream lives a few seconds to a minute), SubscribeUser
streams that come and go (presence changes, so some pushes wait for the grace period), reads
(GetMessages, ListRooms, GetRoom), follow/unfollow (follow pushes), typing and MarkRead.

Samples: chatd's VmRSS, open file descriptors and threads (/proc), and from /metrics the
HTTP/2 connections and streams, active subscriptions, RPCs in flight, pool connections open
and in use; PostgreSQL's client backends (pg_stat_activity). The summary compares the first
and last fifths of the run after a warm-up (the first tenth), and the least-squares slope per
hour. A resource "grows without bound" when its last-fifth mean exceeds its early mean by
more than its allowance (RSS: 25 % + 32 MiB, allocators keep what they once used; counts: a
small absolute slack, since the load's own churn moves them)."""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import grpc

import harness
from harness import M, BreakableOneSignal, Channels, Database, Instance, Sender, log
from chatd_interop import protos

COLUMNS = ["t_s", "rss_kib", "fds", "threads", "http2_connections", "http2_streams",
           "subscriptions", "rpcs_in_flight", "pool_open", "pool_in_use", "pg_connections",
           "messages_acked"]
# (column, relative allowance, absolute allowance) for the growth check.
ALLOWANCES = {"rss_kib": (0.25, 32 * 1024), "fds": (0.0, 16), "threads": (0.0, 4),
              "http2_connections": (0.0, 4), "http2_streams": (0.0, 16),
              "subscriptions": (0.0, 16), "rpcs_in_flight": (0.0, 16), "pool_open": (0.0, 2),
              "pool_in_use": (0.0, 4), "pg_connections": (0.0, 4)}


def auth(user) -> tuple:
    return (("authorization", f"Bearer {user.token}"),)


class Churner(threading.Thread):
    """Opens a stream, reads it for a random while, cancels, and again, until stopped. Kind
    "room": SubscribeRoom as the service role from the last seq seen; "user": SubscribeUser as
    a member (online, then offline)."""

    def __init__(self, kind: str, user, room: str | None, address: str, channels: Channels,
                 stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.kind, self.user, self.room = kind, user, room
        self.address, self.channels, self.stop_event = address, channels, stop
        self.rng = random.Random(seed)
        self.last = 0
        self.streams = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            stub = protos.stub(self.channels.get(self.address), "chat.v1.ChatService")
            if self.kind == "room":
                call = stub.SubscribeRoom(M("chat.v1.SubscribeRoomRequest", room_id=self.room,
                                            after_seq=self.last), metadata=auth(self.user))
            else:
                call = stub.SubscribeUser(M("chat.v1.SubscribeUserRequest", after_seq=self.last),
                                          metadata=auth(self.user))
            self.streams += 1
            life = self.rng.uniform(2, 60)
            timer = threading.Timer(life, call.cancel)
            timer.start()
            try:
                for event in call:
                    if event.seq:
                        self.last = max(self.last, event.seq)
                    if self.stop_event.is_set():
                        call.cancel()
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.CANCELLED:
                    self.errors.append(f"{error.code().name}: {error.details()}")
            finally:
                timer.cancel()
            self.stop_event.wait(self.rng.uniform(0.5, 10))


class Mixer(threading.Thread):
    """One user's other traffic: reads, follow/unfollow, typing, MarkRead, every second or so."""

    def __init__(self, user, rooms: list[str], others: list, address: str, channels: Channels,
                 stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.user, self.rooms, self.others = user, rooms, others
        self.address, self.channels, self.stop_event = address, channels, stop
        self.rng = random.Random(seed)
        self.calls = 0
        self.errors: list[str] = []

    def run(self) -> None:
        chat = "chat.v1.ChatService"
        follows = "social.v1.FollowService"
        while not self.stop_event.wait(self.rng.uniform(0.5, 1.5)):
            channel = self.channels.get(self.address)
            room = self.rng.choice(self.rooms)
            other = self.rng.choice([u for u in self.others if u.id != self.user.id])
            action = self.rng.randrange(6)
            try:
                if action == 0:
                    protos.stub(channel, chat).GetMessages(
                        M("chat.v1.GetMessagesRequest", room_id=room, limit=50),
                        metadata=auth(self.user), timeout=10)
                elif action == 1:
                    protos.stub(channel, chat).ListRooms(
                        M("chat.v1.ListRoomsRequest"), metadata=auth(self.user), timeout=10)
                elif action == 2:
                    summary = protos.stub(channel, chat).GetRoom(
                        M("chat.v1.GetRoomRequest", room_id=room), metadata=auth(self.user),
                        timeout=10)
                    protos.stub(channel, chat).MarkRead(
                        M("chat.v1.MarkReadRequest", room_id=room, up_to_seq=summary.room.last_seq),
                        metadata=auth(self.user), timeout=10)
                elif action == 3:
                    protos.stub(channel, chat).SendTyping(
                        M("chat.v1.SendTypingRequest", room_id=room, typing=True),
                        metadata=auth(self.user), timeout=10)
                elif action == 4:
                    protos.stub(channel, follows).Follow(
                        M("social.v1.FollowRequest", user_id=other.id), metadata=auth(self.user),
                        timeout=10)
                else:
                    protos.stub(channel, follows).Unfollow(
                        M("social.v1.UnfollowRequest", user_id=other.id),
                        metadata=auth(self.user), timeout=10)
                self.calls += 1
            except grpc.RpcError as error:
                self.errors.append(f"{action} {error.code().name}: {error.details()}")


def slope_per_hour(ts: list[float], ys: list[float]) -> float:
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    return 0.0 if var == 0 else sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var * 3600


def summarize(rows: list[dict]) -> tuple[list[str], list[str]]:
    """Lines of the summary and the violations."""
    lines, violations = [], []
    n = len(rows)
    warm = max(1, n // 10)
    steady = rows[warm:]
    if len(steady) < 5:
        return ["too few samples for a verdict"], ["too few samples"]
    fifth = max(1, len(steady) // 5)
    early, late = steady[:fifth], steady[-fifth:]
    lines.append(f"{'metric':18} {'start':>10} {'end':>10} {'early mean':>11} "
                 f"{'late mean':>10} {'max':>10} {'slope/h':>10}")
    for column in COLUMNS[1:]:
        values = [r[column] for r in rows]
        e = sum(r[column] for r in early) / len(early)
        l = sum(r[column] for r in late) / len(late)
        slope = slope_per_hour([r["t_s"] for r in steady], [r[column] for r in steady])
        lines.append(f"{column:18} {values[0]:>10.0f} {values[-1]:>10.0f} {e:>11.1f} "
                     f"{l:>10.1f} {max(values):>10.0f} {slope:>10.1f}")
        if column in ALLOWANCES:
            relative, absolute = ALLOWANCES[column]
            if l > e * (1 + relative) + absolute:
                violations.append(f"{column} grew: early mean {e:.1f}, late mean {l:.1f} "
                                  f"(allowance {relative:.0%} + {absolute})")
    return lines, violations


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", type=Path, default=Path(os.environ.get(
        "CHATD_BINARY", harness.REPO_ROOT / ".build" / "release" / "chatd")))
    p.add_argument("--duration", type=float, default=3600)
    p.add_argument("--interval", type=float, default=10)
    p.add_argument("--csv", default=f"/tmp/chatd-soak-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    p.add_argument("--rooms", type=int, default=6)
    p.add_argument("--members", type=int, default=4)
    p.add_argument("--pause", type=float, default=1.0, help="seconds between a user's sends")
    args = p.parse_args(argv)

    harness.load_protos()
    workdir = Path(tempfile.mkdtemp(prefix="chatd-soak."))
    db = Database(prefix="chatd-soak-pg.")
    fake = BreakableOneSignal().start()
    instance = Instance("soak", args.binary, workdir, db.url,
                        (*harness.push_args(fake.url), "--onesignal-grace-period", "2",
                         "--log-level", "notice"))
    instance.start()
    log(f"chatd on {instance.address} (pid {instance.pid}), workdir {workdir}")
    channels = Channels()
    population = harness.make_population(channels.get(instance.address), args.rooms,
                                         args.members)
    stop = threading.Event()
    rooms_of: dict[str, list[str]] = {}
    for room, members in population.rooms.items():
        for member in members:
            rooms_of.setdefault(member, []).append(room)
    addresses = [instance.address]
    threads: list[threading.Thread] = []
    senders = [Sender(u, rooms_of[u.id], addresses, channels, stop, args.pause, i)
               for i, u in enumerate(population.users)]
    threads += senders
    churners = [Churner("room", population.service, room, instance.address, channels, stop, i)
                for i, room in enumerate(population.rooms) for _ in range(2)]
    churners += [Churner("user", u, None, instance.address, channels, stop, 100 + i)
                 for i, u in enumerate(population.users[::2])]
    threads += churners
    mixers = [Mixer(u, rooms_of[u.id], population.users, instance.address, channels, stop,
                    200 + i) for i, u in enumerate(population.users)]
    threads += mixers
    for thread in threads:
        thread.start()

    rows: list[dict] = []
    began = time.monotonic()
    failure = None
    with open(args.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        while time.monotonic() - began < args.duration:
            time.sleep(args.interval)
            if not instance.process.is_running():
                failure = "chatd exited\n" + instance.process.log_tail()
                break
            try:
                m = instance.metrics()
                row = {
                    "t_s": round(time.monotonic() - began, 1),
                    "rss_kib": instance.rss_kib(), "fds": instance.fds(),
                    "threads": int(next(line.split()[1] for line in
                                        Path(f"/proc/{instance.pid}/status").read_text()
                                        .splitlines() if line.startswith("Threads:"))),
                    "http2_connections": m.get("chatd_http2_connections", 0),
                    "http2_streams": m.get("chatd_http2_streams", 0),
                    "subscriptions": m.get("chatd_active_subscriptions", 0),
                    "rpcs_in_flight": m.get("chatd_rpcs_in_flight", 0),
                    "pool_open": m.get("chatd_db_pool_connections_open", 0),
                    "pool_in_use": m.get("chatd_db_pool_connections_in_use", 0),
                    "pg_connections": db.connections(),
                    "messages_acked": sum(len(s.acks) for s in senders),
                }
            except Exception as error:  # one missed sample is no verdict
                log(f"sample failed: {error}")
                continue
            rows.append(row)
            writer.writerow(row)
            handle.flush()
            log(" ".join(f"{k}={v}" for k, v in row.items()))
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    code = instance.stop()
    fake.stop()
    channels.close()

    lines, violations = summarize(rows)
    if failure:
        violations.append(failure)
    if code not in (0, None):
        violations.append(f"chatd exited {code} on SIGTERM")
    unexpected = [e for s in senders for e in s.unexpected]
    stream_errors = [e for c in churners for e in c.errors]
    call_errors = [e for m in mixers for e in m.errors]
    print(f"\n== soak: {rows[-1]['t_s'] if rows else 0:.0f} s, {len(rows)} samples every "
          f"{args.interval:.0f} s, CSV {args.csv} ==")
    print(f"messages acknowledged {sum(len(s.acks) for s in senders)}, send retries "
          f"{sum(s.retries for s in senders)}, streams opened "
          f"{sum(c.streams for c in churners)}, other calls {sum(m.calls for m in mixers)}")
    print(f"errors: sends {len(unexpected)}, streams {len(stream_errors)}, calls "
          f"{len(call_errors)} {sorted(set(call_errors))[:5]}")
    for line in lines:
        print(line)
    # Follow/Unfollow of someone already (not) followed may be refused; anything else is not.
    if unexpected or stream_errors:
        violations.append(f"errors: {unexpected[:3]} {stream_errors[:3]}")
    print("\nviolations:" if violations else "\nflat: no violations")
    for v in violations:
        print(f"  - {v}")
    if violations:
        log(f"keeping {workdir} and the cluster {db.cluster.folder}")
        db.cluster.stop()
    else:
        db.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
