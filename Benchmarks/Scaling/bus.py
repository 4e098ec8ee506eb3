"""The bus alone: PostgreSQL NOTIFY throughput and latency at rising send rates.

pgbench sends `SELECT pg_notify(channel, '<send time in µs>:<padding>')`, each in its own
transaction as chatd's appends do (a NOTIFY is queued at commit), at a fixed rate (-R) or as
fast as it can; this process LISTENs on one connection, as each chatd instance does, and
measures send-to-receipt latency of every notification and how many arrived.

    python3 bus.py URL --rates 500,2000,0 --payloads 40,2000 --seconds 5 \
        --synchronous-commit on,off

Prints one `workload=bus ...` line per rate (0 = unthrottled). Payload 0 sends no NOTIFY:
the same committing transaction alone, the baseline that shows what NOTIFY adds (PostgreSQL
serializes the commits of notifying transactions on one lock, held across the WAL flush). Needs psycopg2 (Debian
python3-psycopg2) and pgbench (postgresql-client).
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2
import psycopg2.extensions

CHANNEL = "bench_bus"


def listen(url: str, stop: threading.Event, samples: list[int], ready: threading.Event) -> None:
    conn = psycopg2.connect(url)
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    conn.cursor().execute(f"LISTEN {CHANNEL}")
    ready.set()
    idle_since = None
    while True:
        if select.select([conn], [], [], 0.2) == ([], [], []):
            if stop.is_set():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 1.0:
                    break
            continue
        idle_since = None
        conn.poll()
        now = time.time_ns() // 1000
        while conn.notifies:
            note = conn.notifies.pop(0)
            sent = int(note.payload.split(":", 1)[0])
            samples.append(now - sent)
    conn.close()


def percentile(sorted_values: list[int], p: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-p / 100 * len(sorted_values) // 1))))
    return sorted_values[rank - 1] / 1000


def run_rate(
    url: str, rate: int, payload: int, seconds: int, clients: int, pg_pid: int | None, sync: str
):
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    # The payload as chatd sends it ("key:seq" is 36 + 1 + a few digits) or bigger. Payload
    # 0 is the baseline: the same commit (a transaction id, so a commit record and its WAL
    # flush) without NOTIFY.
    pad = max(0, payload - 17)
    if payload == 0:
        script.write("SELECT txid_current();\n")
    else:
        script.write(
            f"SELECT pg_notify('{CHANNEL}', (extract(epoch FROM clock_timestamp()) * 1000000)"
            f"::bigint || ':' || repeat('x', {pad}));\n"
        )
    script.close()
    samples: list[int] = []
    stop, ready = threading.Event(), threading.Event()
    listener = threading.Thread(target=listen, args=(url, stop, samples, ready))
    listener.start()
    ready.wait()
    cpu_before = tree_cpu(pg_pid)
    args = ["pgbench", "-n", "-f", script.name, "-T", str(seconds), "-c", str(clients),
            "-j", str(min(clients, 2)), url]
    if rate > 0:
        args[1:1] = ["-R", str(rate)]
    start = time.monotonic()
    # synchronous_commit=off separates NOTIFY's own cost from the WAL flush of each commit.
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={sync}")
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    time.sleep(0.5)  # pgbench's backends exit with it: let the postmaster reap (cutime) them
    cpu_after = tree_cpu(pg_pid)
    stop.set()
    listener.join()
    os.unlink(script.name)
    if out.returncode != 0:
        sys.exit(f"pgbench failed: {out.stderr}")
    sent, tps = 0, 0.0
    for line in out.stdout.splitlines():
        if line.startswith("number of transactions actually processed"):
            sent = int(line.split(":")[1].split("/")[0])
        if line.startswith("tps = "):
            tps = float(line.split()[2])
    samples.sort()
    fields = {
        "workload": "bus",
        "offered_rate": rate or "max",
        "payload_bytes": payload,
        "synchronous_commit": sync,
        "clients": clients,
        "sent": sent,
        "received": len(samples),
        "sent_per_s": f"{tps:.0f}",
        "p50_ms": f"{percentile(samples, 50):.2f}",
        "p99_ms": f"{percentile(samples, 99):.2f}",
        "max_ms": f"{percentile(samples, 100):.2f}",
    }
    if pg_pid and sent:
        fields["pg_cpu_us_per_notify"] = f"{(cpu_after - cpu_before) / sent:.0f}"
        fields["pg_cpu_pct"] = f"{(cpu_after - cpu_before) / wall / 1e4:.0f}"
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def tree_cpu(pid: int | None) -> float:
    """CPU µs of the postmaster and its children (the backends), as FanoutBench counts it."""
    if not pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")

    def fields(p: int) -> list[str]:
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()

    total = 0
    own = fields(pid)
    total += sum(int(x) for x in own[11:15])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                f = fields(int(entry))
            except OSError:
                continue
            if int(f[1]) == pid:
                total += int(f[11]) + int(f[12])
    return total * 1e6 / tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rates", default="500,2000,5000,10000,0")
    parser.add_argument("--payloads", default="40")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--postgres-pid", type=int)
    parser.add_argument("--synchronous-commit", default="on,off")
    args = parser.parse_args()
    for sync in args.synchronous_commit.split(","):
        for payload in (int(p) for p in args.payloads.split(",")):
            for rate in (int(r) for r in args.rates.split(",")):
                run_rate(
                    args.url, rate, payload, args.seconds, args.clients, args.postgres_pid, sync
                )


if __name__ == "__main__":
    main()
