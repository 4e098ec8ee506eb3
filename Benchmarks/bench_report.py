#!/usr/bin/env python3
"""scripts/bench's arithmetic: one JSON line per h2load run, and the results file (markdown)
from every JSON line of a run: medians and min-max per point and server, ratios of chatd
against each peer, and every target of issue 9 with its measured figure, met or missed.

    bench_report.py h2load OUT LOG SERVER CLIENTS STREAMS SERVER_CPU_US
    bench_report.py report RESULTS.jsonl OUT.md [--command ...] [--machine ...] ...
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
from collections import defaultdict
from datetime import datetime, timezone


# --- h2load ---------------------------------------------------------------------------------

def h2load(out: str, log: str, server: str, clients: str, streams: str, cpu_us: str) -> None:
    text = open(out, encoding="utf-8", errors="replace").read()
    rate = re.search(r"^finished in [^,]*, ([0-9.]+) req/s", text, re.M)
    counts = re.search(r"^requests: .* (\d+) succeeded, (\d+) failed", text, re.M)
    durations = []
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1].startswith("2"):
                durations.append(int(parts[2]))
    durations.sort()
    succeeded = int(counts.group(1)) if counts else 0

    def pct(p: float) -> float:
        if not durations:
            return 0
        return durations[min(len(durations) - 1, max(0, int(p / 100 * len(durations) + 0.5) - 1))]

    print(json.dumps({
        "workload": "unary", "server": server, "clients": int(clients),
        "streams": int(streams),
        "req_per_s": float(rate.group(1)) if rate else 0.0,
        "succeeded": succeeded, "failed": int(counts.group(2)) if counts else 0,
        "latency_p50_us": pct(50), "latency_p99_us": pct(99),
        "latency_max_us": durations[-1] if durations else 0,
        # The half-second warm-up is served but not counted: an upper bound.
        "server_cpu_us_per_req": round(int(cpu_us) / succeeded, 2) if succeeded else 0,
    }))


# --- the results file -----------------------------------------------------------------------

PEER_NAMES = {"chatd": "chatd", "grpc-swift": "grpc-swift-2", "python": "Python grpcio",
              "nghttpd": "nghttpd (static)"}


class Points:
    """Measurements grouped by (workload, point key, server)."""

    def __init__(self, lines: list[dict]):
        self.lines = lines

    def runs(self, workload: str, server: str, **key) -> list[dict]:
        return [d for d in self.lines if d.get("workload") == workload
                and d.get("server") == server and all(d.get(k) == v for k, v in key.items())]

    def ok_values(self, workload: str, server: str, field: str, with_errors: bool = False,
                  **key) -> list[float]:
        return [float(d[field]) for d in self.runs(workload, server, **key)
                if (with_errors or "error" not in d) and field in d]

    def median(self, workload: str, server: str, field: str, **key) -> float | None:
        values = self.ok_values(workload, server, field, **key)
        return statistics.median(values) if values else None

    def errors(self, workload: str, server: str, **key) -> list[str]:
        return [d["error"] for d in self.runs(workload, server, **key) if "error" in d]


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def spread(points: Points, workload: str, server: str, field: str, digits: int = 0,
           unit: str = "", with_errors: bool = False, **key) -> str:
    values = points.ok_values(workload, server, field, with_errors, **key)
    if not values:
        errors = points.errors(workload, server, **key)
        return "failed" if errors else "–"
    median = fmt(statistics.median(values), digits, unit)
    if len(values) == 1:
        return median
    return f"{median} ({fmt(min(values), digits)}–{fmt(max(values), digits)})"


def times(r: float | None, suffix: str = "x") -> str:
    return "–" if r is None else f"{r:,.2f}{suffix}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def store_ratios(points: Points, **key) -> list[float]:
    """Each store run's chatd rate over the pgbench rate of the same run: the two run back to
    back on one cluster, so each run compares them in one state of the disk, whose fsync
    swings between runs (the medians of the two rates can come from different runs)."""
    return [float(d["store_per_s"]) / float(d["pgbench_per_s"])
            for d in points.runs("store", "chatd", **key)
            if "error" not in d and "store_per_s" in d and d.get("pgbench_per_s")]


def median_ratio(ratios: list[float]) -> float | None:
    return statistics.median(ratios) if ratios else None


def ratio_spread(ratios: list[float]) -> str:
    if len(ratios) < 2:
        return times(median_ratio(ratios))
    return f"{times(median_ratio(ratios))} ({min(ratios):.2f}–{max(ratios):.2f})"


def keys_of(points: Points, workload: str, *fields: str) -> list[tuple]:
    seen = sorted({tuple(d.get(f) for f in fields) for d in points.lines
                   if d.get("workload") == workload and all(f in d for f in fields)})
    return seen


def report(args: argparse.Namespace) -> None:
    lines = []
    with open(args.results, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                lines.append(json.loads(line))
    points = Points(lines)
    servers = args.servers.split()
    peers = [s for s in servers if s != "chatd"]
    streaming = [s for s in servers if s != "nghttpd"]
    out: list[str] = []
    w = out.append
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    w(f"# scripts/bench, {now}")
    w("")
    w(f"- command: `{args.command}` ({args.repeat} run(s) per point, alternating servers; "
      f"{args.seconds} s in all)")
    w(f"- commit: {args.commit}; machine: {args.machine}; load average (1, 5, 15 min) before "
      f"-> after: {args.load}")
    w(f"- servers: {', '.join(PEER_NAMES.get(s, s) for s in servers)}; loopback, h2c, load "
      "generator on the same cores")
    phases = [p.strip() for p in args.phases.split(";") if p.strip()]
    if phases:
        w(f"- wall time per phase: {', '.join(phases)}")
    notes = open(args.notes, encoding="utf-8").read().strip().splitlines() if args.notes else []
    for note in notes:
        w(f"- {note}")
    w("- figures: median of the runs, (min–max) when there were several")
    w("")

    targets = target_rows(points, peers)
    if args.whole_run == "1" and args.seconds.isdigit():
        seconds = int(args.seconds)
        # The builds run side by side: their wall time is the phase that spans them all.
        spans = [int(p.split()[-2]) for p in phases if p.startswith("builds ")]
        building = spans[0] if spans else sum(
            int(p.split()[-2]) for p in phases if p.startswith("build "))
        # A build that found everything up to date says nothing about a fresh machine.
        fresh = building >= FRESH_BUILD_SECONDS
        targets.append(["`scripts/bench` on a fresh machine (every workload, builds included) "
                        "within 20 minutes", f"{seconds:,} s, of which builds {building:,} s",
                        "target 1,200 s", times(ratio(seconds, 1200)),
                        verdict(seconds <= 1200) if fresh else
                        "– (the builds were up to date: not a fresh machine)"])
    w("## Targets (issue 9)")
    w("")
    w("| target | chatd | compared with | ratio | result |")
    w("|---|---|---|---|---|")
    for row in targets:
        w("| " + " | ".join(row) + " |")
    w("")
    w("The durable rows' ratio is the median (min–max) of each run's own ratio, not the "
      "ratio of the two medians beside it (see the durable table).")
    w("")

    unary = keys_of(points, "unary", "clients", "streams")
    if unary:
        w("## Unary: h2load on bench.v1.Chat/Send")
        w("")
        w("| clients x streams | server | req/s | p50 | p99 | server CPU/req | chatd ÷ server (req/s) |")
        w("|---|---|---|---|---|---|---|")
        for clients, streams in unary:
            key = {"clients": clients, "streams": streams}
            chatd_rate = points.median("unary", "chatd", "req_per_s", **key)
            for server in servers:
                if not points.runs("unary", server, **key):
                    continue
                r = ratio(chatd_rate, points.median("unary", server, "req_per_s", **key))
                w(f"| c{clients} m{streams} | {PEER_NAMES.get(server, server)} | "
                  f"{spread(points, 'unary', server, 'req_per_s', **key)} | "
                  f"{spread(points, 'unary', server, 'latency_p50_us', unit='µs', **key)} | "
                  f"{spread(points, 'unary', server, 'latency_p99_us', unit='µs', **key)} | "
                  f"{spread(points, 'unary', server, 'server_cpu_us_per_req', 1, 'µs', **key)} | "
                  f"{'' if server == 'chatd' else times(r)} |")
        w("")
        w("Latency: per request from h2load's log (`--log-file`); server CPU: user + system "
          "time of the server process over the run (the half-second warm-up included: an upper bound).")
        w("")

    fanout = keys_of(points, "fanout", "subscribers")
    if fanout:
        w(f"## Fan-out: BenchLoad fanout, one room, {first(points, 'fanout', 'messages')} "
          f"messages at {first(points, 'fanout', 'rate')}/s, at most 100 streams per connection "
          "(8 connections at least)")
        w("")
        w("| subscribers | server | p50 | p99 | max | deliveries/s | lost | server CPU/delivery | open failures |")
        w("|---|---|---|---|---|---|---|---|---|")
        for (n,) in fanout:
            for server in streaming:
                runs = points.runs("fanout", server, subscribers=n)
                if not runs:
                    continue
                errors = points.errors("fanout", server, subscribers=n)
                failed_opens = sum(int(d.get("open_failed", 0)) for d in runs)
                w(f"| {n:,} | {PEER_NAMES.get(server, server)} | "
                  f"{spread(points, 'fanout', server, 'latency_p50_ms', 2, 'ms', subscribers=n)} | "
                  f"{spread(points, 'fanout', server, 'latency_p99_ms', 2, 'ms', subscribers=n)} | "
                  f"{spread(points, 'fanout', server, 'latency_max_ms', 2, 'ms', subscribers=n)} | "
                  f"{spread(points, 'fanout', server, 'deliveries_per_s', subscribers=n)} | "
                  f"{spread(points, 'fanout', server, 'lost', subscribers=n)} | "
                  f"{spread(points, 'fanout', server, 'server_cpu_us_per_delivery', 2, 'µs', subscribers=n)} | "
                  f"{failed_opens}{' (' + str(len(errors)) + ' run(s) failed: ' + errors[0][:80] + ')' if errors else ''} |")
        w("")
        w("Latency: send to receipt of every delivery (the sender's monotonic time in the body, "
          "HdrHistogram); server CPU over the send phase divided by deliveries.")
        w("")

    idle = keys_of(points, "idle", "streams", "connections")
    if idle:
        w("## Idle streams: BenchLoad idle, a fresh server per run")
        w("")
        w("| streams | connections | server | live | open failures | server RSS per stream | descriptors | idle CPU |")
        w("|---|---|---|---|---|---|---|---|")
        for streams, connections in idle:
            key = {"streams": streams, "connections": connections}
            for server in streaming:
                runs = points.runs("idle", server, **key)
                if not runs:
                    continue
                errors = [d["error"] for d in runs if "error" in d]
                w(f"| {streams:,} | {connections:,} | {PEER_NAMES.get(server, server)} | "
                  f"{spread(points, 'idle', server, 'live', with_errors=True, **key)} | "
                  f"{sum(int(d.get('open_failed', 0)) for d in runs)}"
                  f"{' (' + errors[0][:80] + ')' if errors else ''} | "
                  f"{spread(points, 'idle', server, 'server_kib_per_stream', 2, 'KiB', **key)} | "
                  f"{spread(points, 'idle', server, 'server_fds', **key)} | "
                  f"{spread(points, 'idle', server, 'server_idle_cpu_pct', 1, '%', **key)} |")
        w("")
        w("RSS per stream: the server's VmRSS growth from before the connections were opened "
          "to 1 s after every stream received its warm-up event, divided by the streams "
          "(connections included: with one connection per subscriber that is their cost).")
        w("")

    store = keys_of(points, "store", "writers", "rooms")
    if store:
        w("## Durable send: Benchmarks/StoreAppend/run against pgbench")
        w("")
        w("| writers | rooms | chatd store appends/s | pgbench inserts/s | ratio (median of the runs') |")
        w("|---|---|---|---|---|")
        for (writers, rooms) in store:
            key = {"writers": writers, "rooms": rooms}
            w(f"| {writers} | {rooms} | {spread(points, 'store', 'chatd', 'store_per_s', **key)} | "
              f"{spread(points, 'store', 'chatd', 'pgbench_per_s', **key)} | "
              f"{ratio_spread(store_ratios(points, **key))} |")
        w("")
        w("Ratio: the median (min–max) of each run's chatd rate over that run's pgbench rate. "
          "The two run back to back on one cluster, while the disk's fsync rate can swing "
          "between runs, so the medians of the two rates can come from runs in different "
          "states.")
        w("")
        w("The append is ChatStore's SendMessage transaction through the pool, not the RPC with "
          "its token check: concurrent sends share transactions (group commit), in one room "
          "one batch after another, across rooms (migration 15) up to two batches at once, "
          "each with one lock and two updates per room. pgbench runs one INSERT per transaction on the same "
          "throwaway cluster; its 32-client rate is the reference of both 32-writer rows.")
        w("")
        if points.runs("store_latency", "chatd", writers=32):
            w("| open loop, 32 writers | offered | achieved | p50 | p99 |")
            w("|---|---|---|---|---|")
            w(f"| half of pgbench's 32-client rate | "
              f"{spread(points, 'store_latency', 'chatd', 'offered_per_s', writers=32)} | "
              f"{spread(points, 'store_latency', 'chatd', 'achieved_per_s', writers=32)} | "
              f"{spread(points, 'store_latency', 'chatd', 'p50_ms', 1, 'ms', writers=32)} | "
              f"{spread(points, 'store_latency', 'chatd', 'p99_ms', 1, 'ms', writers=32)} |")
            w("")
            w("Open loop: a send's latency counts from when it was due, so a rate the store "
              "cannot keep up with shows as a growing backlog.")
            w("")
    mixed_section(points, w)

    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    if args.raw_copy:
        shutil.copyfile(args.results, args.raw_copy)


MIXED_OPERATIONS = ["get_messages", "list_rooms", "send_typing", "send_message", "mark_read",
                    "resubscribe"]


def mixed_section(points: Points, w) -> None:
    days = keys_of(points, "mixed", "users")
    if not days:
        return
    f = lambda field: first(points, "mixed", field)
    w(f"## Mixed chat day: FanoutBench mixed on chat.v1, chatd only, {f('duration_s')} s "
      f"measured after {f('warmup_s')} s")
    w("")
    w(f"{f('rooms')} rooms ({f('direct_rooms')} direct chats, {f('groups')} groups of 5-50), "
      f"{f('user_streams')} SubscribeUser and {f('room_streams')} SubscribeRoom streams over "
      f"{f('connections')} connections, {f('think_ms')} ms mean think time per user; "
      f"weights `{f('mix')}`.")
    w("")
    weights = dict(pair.split("=", 1) for pair in str(f("mix")).split(",") if "=" in pair)
    w("| users | operation | weight | ops/s | p50 | p99 | max | errors |")
    w("|---|---|---|---|---|---|---|---|")
    for (users,) in days:
        runs = points.runs("mixed", "chatd", users=users)
        for op in MIXED_OPERATIONS:
            errors = sum(mixed_errors(d).get(op, 0) for d in runs)
            w(f"| {users} | {op} | {weights.get(op, '0')} | "
              f"{spread(points, 'mixed', 'chatd', f'{op}_per_s', 1, users=users)} | "
              f"{spread(points, 'mixed', 'chatd', f'{op}_p50_ms', 2, 'ms', users=users)} | "
              f"{spread(points, 'mixed', 'chatd', f'{op}_p99_ms', 2, 'ms', users=users)} | "
              f"{spread(points, 'mixed', 'chatd', f'{op}_max_ms', 1, 'ms', users=users)} | "
              f"{errors} |")
    w("")
    w("| users | operations/s | errors (all runs) | room deliveries | missing | send → room stream p50 / p99 | send → user stream p50 / p99 | server CPU/op | server CPU | PostgreSQL CPU/op | PostgreSQL CPU | server RSS peak |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (users,) in days:
        key = {"users": users}
        runs = points.runs("mixed", "chatd", **key)
        failed = points.errors("mixed", "chatd", **key)
        codes = "; ".join(d["errors_by_code"] for d in runs
                          if d.get("errors_by_code", "none") != "none")
        errors = f"{sum(int(d.get('errors', 0)) for d in runs)}" + (f" ({codes})" if codes else "")
        if failed:
            errors += f"; {len(failed)} run(s) failed: {failed[0][:80]}"
        s = lambda field, digits=0, unit="": spread(points, "mixed", "chatd", field, digits,
                                                    unit, **key)
        w(f"| {users} | {s('operations_per_s', 1)} | {errors} | {s('room_deliveries')} | "
          f"{s('room_missing')} | {s('room_latency_p50_ms', 2)} / {s('room_latency_p99_ms', 2, 'ms')} | "
          f"{s('user_latency_p50_ms', 2)} / {s('user_latency_p99_ms', 2, 'ms')} | "
          f"{s('server_cpu_us_per_op', 1, 'µs')} | {s('server_cpu_pct', 0, '%')} "
          f"(idle {s('server_idle_cpu_pct', 1, '%')}) | {s('postgres_cpu_us_per_op', 1, 'µs')} | "
          f"{s('postgres_cpu_pct', 0, '%')} (idle {s('postgres_idle_cpu_pct', 1, '%')}) | "
          f"{s('server_rss_peak_mib', 1, 'MiB')} |")
    w("")
    w("Latency: per call, closed loop per user (HdrHistogram); send → stream: the sender's "
      "monotonic time in the body to its arrival on another member's stream. CPU per op: "
      "user + system time of chatd (and of PostgreSQL's processes) over the measured window "
      "divided by every operation in it, fan-out included; idle: the same with every stream "
      "open and no one acting, measured for 2 s before the day (a share of one core). Errors: failed calls and stream "
      "attempts by status code, warm-up included.")
    w("")


def mixed_errors(d: dict) -> dict[str, int]:
    """Failures per operation from `errors_by_code` ("send_message UNAVAILABLE=2; ...")."""
    counts: dict[str, int] = defaultdict(int)
    for part in str(d.get("errors_by_code", "none")).split("; "):
        if "=" in part and " " in part:
            what, count = part.rsplit("=", 1)
            counts[what.split(" ")[0]] += int(count)
    return counts


def first(points: Points, workload: str, field: str):
    for d in points.lines:
        if d.get("workload") == workload and field in d:
            return d[field]
    return "?"


# Builds from nothing take minutes (chatd alone about 6 on 2 cores); less than this means
# they were mostly up to date.
FRESH_BUILD_SECONDS = 240


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def target_rows(points: Points, peers: list[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    # Unary
    c16 = {"clients": 16, "streams": 32}
    chatd16 = points.median("unary", "chatd", "req_per_s", **c16)
    swift16 = points.median("unary", "grpc-swift", "req_per_s", **c16)
    if swift16 is not None:
        r = ratio(chatd16, swift16)
        rows.append(["unary c16 m32 ≥ 8x grpc-swift-2's rate", fmt(chatd16, 0, "/s"),
                     f"grpc-swift-2 {fmt(swift16, 0, '/s')}", times(r),
                     verdict(None if r is None else r >= 8)])
    else:
        r = ratio(chatd16, 21000)
        rows.append(["unary c16 m32 ≥ 8x grpc-swift-2's rate", fmt(chatd16, 0, "/s"),
                     "grpc-swift-2 not run: the issue's 21,000/s", times(r),
                     verdict(None if r is None else r >= 8) + " (reference, not same run)"])
    nghttpd16 = points.median("unary", "nghttpd", "req_per_s", **c16)
    r = ratio(chatd16, nghttpd16)
    rows.append(["unary c16 m32 ≥ 50% of nghttpd's static rate", fmt(chatd16, 0, "/s"),
                 f"nghttpd {fmt(nghttpd16, 0, '/s')}" if nghttpd16 else "nghttpd not run",
                 times(r), verdict(None if r is None else r >= 0.5)])
    chatd64 = points.median("unary", "chatd", "req_per_s", clients=64, streams=64)
    r = ratio(chatd64, chatd16)
    rows.append(["unary: no drop from c16 m32 to c64 m64", fmt(chatd64, 0, "/s") + " at c64 m64",
                 f"chatd c16 m32 {fmt(chatd16, 0, '/s')}", times(r),
                 verdict(None if r is None else r >= 0.95) + (" (met at ≥ 0.95: run-to-run noise)" if r else "")])
    p50 = points.median("unary", "chatd", "latency_p50_us", clients=1, streams=1)
    rows.append(["unary c1 m1 median latency ≤ 60 µs", fmt(p50, 0, "µs"), "target 60 µs",
                 times(ratio(p50, 60)),
                 verdict(None if p50 is None else p50 <= 60)])
    # Fan-out
    counts = sorted({d["subscribers"] for d in points.lines
                     if d.get("workload") == "fanout" and d.get("server") == "chatd"})
    if counts:
        n = 5000 if 5000 in counts else counts[-1]
        cpu = points.median("fanout", "chatd", "server_cpu_us_per_delivery", subscribers=n)
        peer_cpu = points.median("fanout", "grpc-swift", "server_cpu_us_per_delivery", subscribers=n)
        rows.append([f"fan-out server CPU per delivery ≤ 3 µs ({n:,} subscribers)",
                     fmt(cpu, 2, "µs"),
                     f"grpc-swift-2 {fmt(peer_cpu, 2, 'µs')}" if peer_cpu else
                     "grpc-swift-2 not run (issue: 15-20 µs)",
                     times(ratio(peer_cpu, cpu), "x less"),
                     verdict(None if cpu is None else cpu <= 3)])
    if 5000 in counts:
        p99 = points.median("fanout", "chatd", "latency_p99_ms", subscribers=5000)
        peer = points.median("fanout", "grpc-swift", "latency_p99_ms", subscribers=5000)
        rows.append(["fan-out 5,000 subscribers p99 ≤ 15 ms", fmt(p99, 2, "ms"),
                     f"grpc-swift-2 {fmt(peer, 2, 'ms')}" if peer else
                     "grpc-swift-2 not run (issue: 71 ms)",
                     times(ratio(peer, p99), "x lower"),
                     verdict(None if p99 is None else p99 <= 15)])
        runs = points.runs("fanout", "chatd", subscribers=5000)
        failures = sum(int(d.get("open_failed", 0)) for d in runs)
        errors = points.errors("fanout", "chatd", subscribers=5000)
        rows.append(["5,000 subscriptions opened at once with no error",
                     f"{failures} failed opens in {len(runs)} run(s)", "–", "–",
                     verdict(failures == 0 and not errors)])
    else:
        rows.append(["fan-out 5,000 subscribers p99 ≤ 15 ms", "not run", "–", "–", "–"])
    if 10000 in counts:
        runs = points.runs("fanout", "chatd", subscribers=10000)
        served = [d for d in runs if "error" not in d and d.get("lost", 1) == 0]
        rows.append(["10,000 subscribers served", f"{len(served)} of {len(runs)} runs complete, "
                     "nothing lost", "–", "–", verdict(bool(runs) and len(served) == len(runs))])
    else:
        # Quick mode (or FANOUT_SUBSCRIBERS) may stop short of 10,000; a run without the
        # fan-out workload has no point at all.
        why = f"not run (largest point: {max(counts):,})" if counts else "not run"
        rows.append(["10,000 subscribers served", why, "–", "–", "–"])
    # Memory
    idle = keys_of(points, "idle", "streams", "connections")
    shared = [(s, c) for s, c in idle if c < s]
    own = [(s, c) for s, c in idle if c == s]
    for streams, connections in shared:
        kib = points.median("idle", "chatd", "server_kib_per_stream", streams=streams,
                            connections=connections)
        peer = points.median("idle", "grpc-swift", "server_kib_per_stream", streams=streams,
                             connections=connections)
        errors = points.errors("idle", "chatd", streams=streams, connections=connections)
        rows.append([f"RSS per open stream ≤ 8 KiB, shared connections ({streams:,} streams)",
                     fmt(kib, 2, "KiB") + (f" ({len(errors)} failed run(s))" if errors else ""),
                     f"grpc-swift-2 {fmt(peer, 2, 'KiB')}" if peer else
                     "grpc-swift-2 not run (issue: ~22 KiB)",
                     times(ratio(peer, kib), "x less"),
                     verdict(None if kib is None else kib <= 8 and not errors)])
    for streams, connections in own:
        kib = points.median("idle", "chatd", "server_kib_per_stream", streams=streams,
                            connections=connections)
        peer = points.median("idle", "grpc-swift", "server_kib_per_stream", streams=streams,
                             connections=connections)
        rows.append([f"RSS per subscriber with its own connection ≤ 16 KiB ({streams:,})",
                     fmt(kib, 2, "KiB"),
                     f"grpc-swift-2 {fmt(peer, 2, 'KiB')}" if peer else
                     "grpc-swift-2 not run (issue: ~62 KiB)",
                     times(ratio(peer, kib), "x less"),
                     verdict(None if kib is None else kib <= 16)])
    # Durable send
    # The ratio is the median of the runs' own ratios (store_ratios).
    s32 = points.median("store", "chatd", "store_per_s", writers=32, rooms=1)
    p32 = points.median("store", "chatd", "pgbench_per_s", writers=32, rooms=1)
    ratios = store_ratios(points, writers=32, rooms=1)
    r = median_ratio(ratios)
    rows.append(["durable send ≥ 1.0x pgbench at 32 senders (one room)", fmt(s32, 0, "/s"),
                 f"pgbench {fmt(p32, 0, '/s')}" if p32 else "not run", ratio_spread(ratios),
                 verdict(None if r is None else r >= 1.0)])
    spread32 = points.median("store", "chatd", "store_per_s", writers=32, rooms=32)
    if spread32 is not None:
        ratios = store_ratios(points, writers=32, rooms=32)
        r = median_ratio(ratios)
        rows.append(["durable send ≥ 1.0x pgbench at 32 senders (32 rooms)",
                     fmt(spread32, 0, "/s"), f"pgbench {fmt(p32, 0, '/s')}",
                     ratio_spread(ratios), verdict(None if r is None else r >= 1.0)])
    p99 = points.median("store_latency", "chatd", "p99_ms", writers=32)
    offered = points.median("store_latency", "chatd", "offered_per_s", writers=32)
    achieved = points.median("store_latency", "chatd", "achieved_per_s", writers=32)
    rows.append(["durable send p99 ≤ 10 ms at half that rate",
                 "not run" if p99 is None else f"p99 {fmt(p99, 1, 'ms')}, "
                 f"{fmt(achieved, 0, '/s')} done of {fmt(offered, 0, '/s')} offered",
                 "target 10 ms", "–", verdict(None if p99 is None else p99 <= 10.0)])
    # Mixed chat day
    days = [d for d in points.lines if d.get("workload") == "mixed"]
    if days:
        errors = sum(int(d.get("errors", 0)) for d in days)
        missing = sum(int(d.get("room_missing", 0)) for d in days)
        failed = sum(1 for d in days if "error" in d)
        rows.append(["mixed chat day: no error, nothing lost on the streams",
                     f"{errors} errors, {missing} missing deliveries in {len(days)} run(s)"
                     + (f" ({failed} failed)" if failed else ""), "–", "–",
                     verdict(errors == 0 and missing == 0 and failed == 0)])
    else:
        rows.append(["mixed chat day: no error, nothing lost on the streams", "not run", "–",
                     "–", "–"])
    return rows


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "h2load":
        h2load(*sys.argv[2:9])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["report"])
    parser.add_argument("results")
    parser.add_argument("out")
    parser.add_argument("--command", dest="run_command", default="scripts/bench")
    parser.add_argument("--commit", default="?")
    parser.add_argument("--machine", default="?")
    parser.add_argument("--load", default="?")
    parser.add_argument("--seconds", default="?")
    parser.add_argument("--repeat", default="?")
    parser.add_argument("--servers", default="chatd")
    parser.add_argument("--notes", default="")
    parser.add_argument("--raw-copy", default="")
    parser.add_argument("--phases", default="", help="'name N s' entries separated by ';'")
    parser.add_argument("--whole-run", default="0", help="1 when every workload ran, not quick")
    args = parser.parse_args()
    args.command = args.run_command
    report(args)


if __name__ == "__main__":
    main()
