"""Chaos: two chatd instances on one PostgreSQL with push on, users sending and subscribers
resuming, while faults are injected; then nothing may be lost, duplicated or skipped.

    scripts/chaos                      about 3 minutes, every fault at least once
    scripts/chaos --duration 900       longer: the faults repeat in turn
    scripts/chaos --faults kill,pg-fast,cut,push-500 --duration 60

Faults (in this order, repeated until --duration is spent, --gap seconds between them):
  kill         kill -9 one chatd (alternating), restart it 2 s later on the same port
  pg-fast      pg_ctl restart -m fast
  push-500     the fake OneSignal answers 500 for --outage seconds, then heals
  cut          a TCP proxy between some subscribers and chatd drops every connection
  pg-stop      SIGSTOP to the postmaster and all its backends for the statement timeout
               (10 s) plus 3 s, then SIGCONT
  pg-immediate pg_ctl restart -m immediate (a crash: WAL recovery)
  push-stall   the fake answers only after chatd's push timeout, for --outage seconds

Checks (any violation exits 1): every acknowledged message is stored (lost = 0); no
client_msg_id stored twice (duplicated = 0); every subscriber saw exactly its room's
sequence from the database (no gap, no repeat, same message ids); every push of every stored
message went to the fake under exactly one idempotency key and was accepted, and nothing is
left in the outbox; both instances answer health SERVING by themselves; senders saw only
UNAVAILABLE or DEADLINE_EXCEEDED. Recovery times are measured from each fault's end."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import harness
from harness import (BreakableOneSignal, Channels, Database, Instance, Proxy, Sender,
                     Subscriber, log)

ALL_FAULTS = ["kill", "pg-fast", "push-500", "cut", "pg-stop", "kill", "pg-immediate",
              "push-stall", "cut"]
STATEMENT_TIMEOUT = 10.0  # StoreConfiguration's statement timeout (docs/operations.md)


@dataclass
class Fault:
    name: str
    detail: str
    started: float
    ended: float = 0.0
    recovery: dict = field(default_factory=dict)


class HealthMonitor(threading.Thread):
    """Polls health Check on every instance four times a second: (time, name, serving)."""

    def __init__(self, instances: list[Instance], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.instances = instances
        self.stop_event = stop
        self.samples: list[tuple[float, str, bool]] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            for instance in self.instances:
                self.samples.append((time.monotonic(), instance.name,
                                     instance.serving(timeout=0.5)))
            time.sleep(0.25)

    def all_serving_after(self, t: float) -> float | None:
        """The first time after t from which every instance's next sample said SERVING."""
        latest: dict[str, tuple[float, bool]] = {}
        for at, name, ok in self.samples:
            if at < t:
                continue
            latest[name] = (at, ok)
            if len(latest) == len(self.instances) and all(v for _, v in latest.values()):
                return at
        return None


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="chatd-chaos."))
        self.faults: list[Fault] = []
        self.violations: list[str] = []
        self.kill_turn = 0

    # --- setup ------------------------------------------------------------------------------
    def start(self) -> None:
        harness.load_protos()
        log(f"workdir {self.workdir}")
        self.db = Database()
        self.fake = BreakableOneSignal().start()
        extra = (*harness.push_args(self.fake.url), "--log-level", "notice")
        self.instances = [Instance(name, self.args.binary, self.workdir, self.db.url, extra)
                          for name in ("a", "b")]
        for instance in self.instances:
            instance.start()
            log(f"chatd {instance.name} on {instance.address} (pid {instance.pid})")
        self.proxies = [Proxy(i.address) for i in self.instances]
        self.channels = Channels()
        population = harness.make_population(
            self.channels.get(self.instances[0].address), self.args.rooms, self.args.members)
        self.population = population
        addresses = [i.address for i in self.instances]
        self.stop_senders = threading.Event()
        self.finish = threading.Event()
        self.final_seq: dict[str, int] = {}
        rooms_of: dict[str, list[str]] = defaultdict(list)
        for room, members in population.rooms.items():
            for member in members:
                rooms_of[member].append(room)
        self.senders = [Sender(user, rooms_of[user.id], addresses, self.channels,
                               self.stop_senders, self.args.pause, seed)
                        for seed, user in enumerate(population.users)
                        if user.id not in population.silent]
        self.subscribers = []
        proxied = [p.address for p in self.proxies]
        for index, room in enumerate(population.rooms):
            for copy in range(self.args.subscribers_per_room):
                through_proxy = copy % 2 == 1
                self.subscribers.append(Subscriber(
                    f"{'proxy' if through_proxy else 'direct'}-{index}-{copy}",
                    population.service, room, proxied if through_proxy else addresses,
                    self.channels, self.finish, self.final_seq))
        self.monitor_stop = threading.Event()
        self.monitor = HealthMonitor(self.instances, self.monitor_stop)

    # --- faults -----------------------------------------------------------------------------
    def inject(self, name: str) -> Fault:
        now = time.monotonic
        if name == "kill":
            victim = self.instances[self.kill_turn % len(self.instances)]
            self.kill_turn += 1
            fault = Fault(name, f"kill -9 chatd {victim.name} (pid {victim.pid}), restart "
                                f"2 s later", now())
            victim.kill()
            time.sleep(2)
            fault.ended = now()
            victim.start()
            fault.recovery["restart_to_serving_s"] = now() - fault.ended
        elif name in ("pg-fast", "pg-immediate"):
            mode = name.split("-")[1]
            fault = Fault(name, f"pg_ctl restart -m {mode}", now())
            self.db.restart(mode)
            fault.ended = now()
        elif name == "pg-stop":
            pause = STATEMENT_TIMEOUT + 3
            pids = self.db.pause()
            fault = Fault(name, f"SIGSTOP postmaster + {len(pids) - 1} children for "
                                f"{pause:.0f} s", now())
            time.sleep(pause)
            self.db.resume(pids)
            fault.ended = now()
        elif name in ("push-500", "push-stall"):
            mode = name.split("-")[1]
            fault = Fault(name, f"OneSignal fake {mode} for {self.args.outage:.0f} s", now())
            self.fake.mode = mode
            time.sleep(self.args.outage)
            self.fake.mode = "ok"
            fault.ended = now()
        elif name == "cut":
            fault = Fault(name, "", now())
            cut = sum(p.cut() for p in self.proxies)
            fault.detail = f"proxies cut {cut} subscriber connection(s)"
            fault.ended = now()
        else:
            raise SystemExit(f"unknown fault {name}")
        log(f"fault {name}: {fault.detail} ({fault.ended - fault.started:.1f} s)")
        return fault

    # --- the run ----------------------------------------------------------------------------
    def run(self) -> int:
        self.start()
        self.monitor.start()
        for thread in (*self.senders, *self.subscribers):
            thread.start()
        began = time.monotonic()
        time.sleep(self.args.warmup)
        names = self.args.faults
        turn = 0
        while True:
            elapsed = time.monotonic() - began
            if turn >= len(names) and elapsed >= self.args.duration:
                break
            self.faults.append(self.inject(names[turn % len(names)]))
            turn += 1
            time.sleep(self.args.gap)
        log(f"faults done after {time.monotonic() - began:.0f} s; stopping the senders")
        self.stop_senders.set()
        for sender in self.senders:
            sender.join(timeout=90)
        self.loaded_for = time.monotonic() - began
        for room in self.population.rooms:
            self.final_seq[room] = int(self.db.psql(
                f"SELECT last_seq FROM rooms WHERE id = '{room}'")[0][0])
        self.finish.set()
        log("senders stopped; waiting for the subscribers to reach the rooms' last seq")
        for subscriber in self.subscribers:
            if not subscriber.done.wait(timeout=120):
                since = (time.monotonic() - subscriber.arrivals[-1]
                         if subscriber.arrivals else None)
                self.violations.append(f"subscriber {subscriber.name} did not catch up "
                                       f"(at seq {subscriber.last} of "
                                       f"{self.final_seq[subscriber.room]}, its last event "
                                       f"{fmt(since)} s ago, ends {subscriber.ends})")
        log("subscribers caught up; waiting for the push outbox to drain")
        self.drain_pushes()
        log("push outbox drained; checking")
        self.monitor_stop.set()
        self.monitor.join()
        self.check()
        self.stalls = self.feed_stalls()
        self.measure_recovery()
        self.report()
        self.shutdown()
        return 1 if self.violations else 0

    def drain_pushes(self) -> None:
        """Waits until the outbox has nothing pending (retries after the outages and the
        leases of killed instances run out) and the fake has seen every push."""
        deadline = time.monotonic() + self.args.drain
        while time.monotonic() < deadline:
            pending = int(self.db.psql(
                "SELECT count(*) FROM push_outbox WHERE failed_at IS NULL")[0][0])
            if pending == 0:
                time.sleep(1.0)  # answers in flight
                return
            time.sleep(1.0)
        log("push outbox did not drain in time")

    def feed_stalls(self) -> list[str]:
        """The feeds chatd's watchdog found silent while behind (and read again): each one is
        a bug on the way from the bus to a feed that the watchdog papered over. Reported, so a
        run shows them even when every subscriber caught up."""
        stalls = []
        for instance in self.instances:
            log_path = instance.process.log_path
            if log_path.exists():
                for line in log_path.read_text(errors="replace").splitlines():
                    if "feed stalled" in line:
                        stalls.append(f"{instance.name}: {line}")
        return stalls

    # --- checks -----------------------------------------------------------------------------
    def check(self) -> None:
        acks = [ack for sender in self.senders for ack in sender.acks]
        stored = harness.stored_messages(self.db)
        self.acknowledged = len(acks)
        self.lost = [a for a in acks if a.client_msg_id not in stored
                     or a.message_id not in {m for m, _, _ in stored[a.client_msg_id]}]
        self.duplicated = {c: rows for c, rows in stored.items() if len(rows) > 1}
        acked_ids = {a.client_msg_id for a in acks}
        self.unacked_stored = [c for c in stored if c not in acked_ids]
        self.retries = sum(s.retries for s in self.senders)
        self.unexpected = [e for s in self.senders for e in s.unexpected]
        if self.lost:
            self.violations.append(f"{len(self.lost)} acknowledged message(s) lost, e.g. "
                                   f"{asdict(self.lost[0])}")
        if self.duplicated:
            self.violations.append(f"{len(self.duplicated)} client_msg_id(s) stored twice")
        if self.unacked_stored:
            self.violations.append(f"{len(self.unacked_stored)} stored message(s) never "
                                   f"acknowledged although their sender retried")
        if self.unexpected:
            self.violations.append(f"{len(self.unexpected)} unexpected status(es) on "
                                   f"SendMessage, e.g. {self.unexpected[:3]}")

        # Subscribers: exactly the database's sequence of their room.
        sequences = {room: harness.room_sequence(self.db, room) for room in self.population.rooms}
        self.resumes = sum(s.resumes for s in self.subscribers)
        self.subscriber_ok = 0
        for s in self.subscribers:
            want = sequences[s.room]
            got_seqs = [seq for seq, _ in s.events]
            if got_seqs != [seq for seq, _ in want]:
                self.violations.append(f"subscriber {s.name}: {len(got_seqs)} events, the "
                                       f"room has {len(want)}; first difference at index "
                                       f"{first_difference(got_seqs, [q for q, _ in want])}")
                continue
            wrong = [seq for (seq, mid), (_, want_mid) in zip(s.events, want)
                     if mid and mid != want_mid]
            if wrong:
                self.violations.append(f"subscriber {s.name}: other message ids at seqs "
                                       f"{wrong[:5]}")
                continue
            self.subscriber_ok += 1

        # Pushes: one key per (message, recipient), accepted, nothing left behind.
        members = self.population.rooms
        sender_of = {}
        for sender in self.senders:
            for ack in sender.acks:
                sender_of[ack.message_id] = (ack.room, ack.sender)
        # A member who posts has read the room: the worker drops their pending pushes for
        # earlier messages (docs/push.md). Only the silent members' pushes are all due; the
        # others' may be dropped but never doubled.
        allowed = {(mid, user) for mid, (room, who) in sender_of.items()
                   for user in members[room] if user != who}
        expected = {(mid, user) for mid, user in allowed if user in self.population.silent}
        keys_of: dict[tuple[str, str], set[str]] = defaultdict(set)
        answers_of: dict[str, list] = defaultdict(list)
        for record in self.fake.records:
            keys_of[(record.message_id, record.recipient)].add(record.key)
            answers_of[record.key].append(record)
        self.push_expected = len(expected)
        self.push_requests = len(self.fake.records)
        missing = [p for p in expected if p not in keys_of]
        unexpected = [p for p in keys_of if p not in allowed]
        two_keys = [p for p, keys in keys_of.items() if len(keys) > 1]
        unaccepted = [k for p in expected for k in keys_of.get(p, ())
                      if not any(200 <= r.status < 300 for r in answers_of[k])]
        self.push_keys = len(answers_of)
        self.push_retried_keys = sum(1 for r in answers_of.values() if len(r) > 1)
        self.push_resent_after_2xx = sum(
            1 for records in answers_of.values()
            if sum(1 for r in records if 200 <= r.status < 300) > 1)
        # chatd saw a 2xx (not a stall past its timeout) and still sent the key again: the
        # outcome could not be recorded (PostgreSQL away, instance killed) and the lease ran out.
        self.push_resent_after_seen_2xx = sum(
            1 for records in answers_of.values()
            if any(200 <= r.status < 300 and not r.stalled for r in records[:-1]))
        failed = int(self.db.psql(
            "SELECT count(*) FROM push_outbox WHERE failed_at IS NOT NULL")[0][0])
        pending = int(self.db.psql(
            "SELECT count(*) FROM push_outbox WHERE failed_at IS NULL")[0][0])
        for label, items in (("push(es) never requested", missing),
                             ("push(es) for no stored message", unexpected),
                             ("push(es) sent under two idempotency keys", two_keys),
                             ("idempotency key(s) never accepted", unaccepted)):
            if items:
                self.violations.append(f"{len(items)} {label}, e.g. {items[:2]}")
        if failed or pending:
            self.violations.append(f"push outbox: {failed} given up, {pending} pending")

        # Recovered by themselves.
        for instance in self.instances:
            if not instance.serving(timeout=5):
                self.violations.append(f"chatd {instance.name} not SERVING at the end")

    def measure_recovery(self) -> None:
        acks = sorted(a.at for s in self.senders for a in s.acks)
        for fault in self.faults:
            end = fault.ended
            send = next((t for t in acks if t > end), None)
            fault.recovery["sends_s"] = round(send - end, 2) if send else None
            # What users felt: the longest time without any acknowledged send around it.
            window = [t for t in acks if fault.started - 5 <= t <= (send or end)]
            fault.recovery["longest_send_gap_s"] = round(
                max((b - a for a, b in zip(window, window[1:])), default=0.0), 2)
            live = []
            for s in self.subscribers:
                first = next((t for t in s.arrivals if t > end), None)
                if first is not None:
                    live.append(first - end)
            fault.recovery["subscribers_live_s"] = round(max(live), 2) if live else None
            serving = self.monitor.all_serving_after(end)
            fault.recovery["health_serving_s"] = round(serving - end, 2) if serving else None
            if "restart_to_serving_s" in fault.recovery:
                fault.recovery["restart_to_serving_s"] = round(
                    fault.recovery["restart_to_serving_s"], 2)

    # --- output -----------------------------------------------------------------------------
    def report(self) -> None:
        out = sys.stdout
        print("\n== chaos run ==", file=out)
        print(f"loaded for        {self.loaded_for:.0f} s, {len(self.faults)} faults, "
              f"{len(self.senders)} senders in {len(self.population.rooms)} rooms, "
              f"{len(self.subscribers)} subscribers", file=out)
        print(f"acknowledged      {self.acknowledged}", file=out)
        print(f"lost              {len(self.lost)}", file=out)
        print(f"duplicated        {len(self.duplicated)}", file=out)
        print(f"send retries      {self.retries} (UNAVAILABLE/DEADLINE_EXCEEDED), "
              f"unexpected statuses {len(self.unexpected)}", file=out)
        print(f"subscribers       {self.subscriber_ok}/{len(self.subscribers)} saw exactly the "
              f"database's sequence; {self.resumes} resumes", file=out)
        ends = defaultdict(int)
        for s in self.subscribers:
            for end in s.ends:
                ends[end.split(" ", 2)[1] if end.startswith("ended:") else end] += 1
        print(f"stream ends       {dict(ends)}", file=out)
        print(f"pushes            {self.push_expected} due to silent members, {self.push_keys} keys, "
              f"{self.push_requests} requests; {self.push_retried_keys} keys requested more "
              f"than once, {self.push_resent_after_2xx} re-sent after a 2xx (deduplicated by "
              f"the key; {self.push_resent_after_seen_2xx} after a 2xx chatd received in "
              f"time)", file=out)
        print("\nfault                                                      gap  sends   subs "
              "health restart", file=out)
        for f in self.faults:
            r = f.recovery
            print(f"{f.name:12} {f.detail[:44]:44} {fmt(r.get('longest_send_gap_s'))} "
                  f"{fmt(r.get('sends_s'))} "
                  f"{fmt(r.get('subscribers_live_s'))} {fmt(r.get('health_serving_s'))} "
                  f"{fmt(r.get('restart_to_serving_s'))}", file=out)
        print("(seconds; gap: longest time without an acknowledged send around the fault; "
              "then from the fault's end: first acknowledged send, every subscriber's first "
              "new event, every instance SERVING; restart: process start to SERVING)",
              file=out)
        for name in sorted({f.name for f in self.faults}):
            sends = [f.recovery["sends_s"] for f in self.faults
                     if f.name == name and f.recovery.get("sends_s") is not None]
            if len(sends) > 1:
                print(f"  {name}: sends recovered in median {statistics.median(sends):.2f} s, "
                      f"max {max(sends):.2f} s over {len(sends)}", file=out)
        print(f"feed stalls       {len(self.stalls)} found and read again by chatd's watchdog",
              file=out)
        for line in self.stalls[:10]:
            print(f"  {line}", file=out)
        print("\nviolations:" if self.violations else "\nno violations", file=out)
        for v in self.violations:
            print(f"  - {v}", file=out)
        if self.args.report:
            Path(self.args.report).write_text(json.dumps({
                "acknowledged": self.acknowledged, "lost": len(self.lost),
                "duplicated": len(self.duplicated), "retries": self.retries,
                "unexpected": self.unexpected[:20], "resumes": self.resumes,
                "subscribers": len(self.subscribers), "subscribers_exact": self.subscriber_ok,
                "push_expected": self.push_expected, "push_keys": self.push_keys,
                "push_requests": self.push_requests,
                "push_resent_after_2xx": self.push_resent_after_2xx,
                "push_resent_after_seen_2xx": self.push_resent_after_seen_2xx,
                "faults": [asdict(f) for f in self.faults], "violations": self.violations,
                "loaded_for": self.loaded_for, "feed_stalls": self.stalls,
            }, indent=2))

    def shutdown(self) -> None:
        for instance in self.instances:
            code = instance.stop()
            if code not in (0, None):
                self.violations.append(f"chatd {instance.name} exited {code} on SIGTERM")
        for proxy in self.proxies:
            proxy.close()
        self.channels.close()
        self.fake.stop()
        if self.violations:
            log(f"keeping {self.workdir} and the cluster {self.db.cluster.folder} for a look")
            for instance in self.instances:
                instance.process.stop()
            self.db.cluster.stop()
        else:
            self.db.destroy()
            shutil.rmtree(self.workdir, ignore_errors=True)


def fmt(value) -> str:
    return f"{value:6.2f}" if isinstance(value, (int, float)) else "     -"


def first_difference(a: list, b: list) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", type=Path, default=Path(os.environ.get(
        "CHATD_BINARY", harness.REPO_ROOT / ".build" / "release" / "chatd")))
    p.add_argument("--duration", type=float, default=180, help="seconds of faults (default 180)")
    p.add_argument("--faults", type=lambda s: s.split(","), default=ALL_FAULTS)
    p.add_argument("--gap", type=float, default=8, help="seconds between faults")
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--outage", type=float, default=10, help="seconds the OneSignal fake is broken")
    p.add_argument("--rooms", type=int, default=4)
    p.add_argument("--members", type=int, default=4, help="per room, the last never sends")
    p.add_argument("--subscribers-per-room", type=int, default=2)
    p.add_argument("--pause", type=float, default=0.15, help="seconds between a user's sends")
    p.add_argument("--drain", type=float, default=150, help="seconds to wait for pushes")
    p.add_argument("--report", help="write the figures as JSON to this file")
    args = p.parse_args(argv)
    unknown = set(args.faults) - set(ALL_FAULTS)
    if unknown:
        p.error(f"unknown faults {sorted(unknown)}; known: {sorted(set(ALL_FAULTS))}")
    return args


def main(argv: list[str] | None = None) -> int:
    return Run(parse(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
