"""What a dead instance costs: its users stay online until its lease runs out.

Opens --users SubscribeUser streams on the instance to kill (--target, --pid), waits until
the database counts them all online, kills the instance with SIGKILL (no retirement), then
polls the database every 50 ms: how long until every user is offline (lease expiry), and until
a surviving instance reaped the dead one (instances row gone, last_seen_at = lease end).
Prints one `workload=presence ...` line.
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


def token(user: str) -> str:
    claims = {"sub": user, "name": user, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, os.environ["CHATD_JWT_SECRET"], algorithm="HS256")


def psql(url: str, sql: str) -> str:
    return subprocess.run(
        ["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--lease", type=float, required=True)
    args = parser.parse_args()

    prefix = f"p{uuid.uuid4().hex[:6]}-"
    synced = threading.Semaphore(0)

    def follow(user: str) -> None:
        client = connect(args.target, token(user))
        try:
            for event in client.chat.SubscribeUser(chat.SubscribeUserRequest()):
                if event.WhichOneof("event") == "synced":
                    synced.release()
        except grpc.RpcError:
            pass  # the instance dies: UNAVAILABLE

    for i in range(args.users):
        threading.Thread(target=follow, args=(f"{prefix}{i}",), daemon=True).start()
    for _ in range(args.users):
        if not synced.acquire(timeout=60):
            sys.exit("streams did not sync")
    online_sql = f"SELECT count(*) FROM users WHERE id LIKE '{prefix}%' AND chat_online(id)"
    deadline = time.monotonic() + 30
    while int(psql(args.database_url, online_sql)) < args.users:
        if time.monotonic() > deadline:
            sys.exit("the database never counted every stream online")
        time.sleep(0.05)
    # The instance the streams are on, and how long its lease still runs.
    dead, lease_left = psql(
        args.database_url,
        f"SELECT i.id, extract(epoch FROM i.lease_expires_at - now()) FROM instances i "
        f"WHERE i.id = (SELECT instance_id FROM presence WHERE user_id = '{prefix}0')",
    ).split("|")

    os.kill(args.pid, signal.SIGKILL)
    killed = time.monotonic()
    dead_sql = f"SELECT count(*) FROM instances WHERE id = '{dead}'"
    offline_s = reaped_s = None
    while time.monotonic() - killed < args.lease * 3 + 10:
        now = time.monotonic() - killed
        if offline_s is None and int(psql(args.database_url, online_sql)) == 0:
            offline_s = now
        if reaped_s is None and int(psql(args.database_url, dead_sql)) == 0:
            reaped_s = now
        if offline_s is not None and reaped_s is not None:
            break
        time.sleep(0.05)
    seen = psql(
        args.database_url,
        f"SELECT count(*) FROM users WHERE id LIKE '{prefix}%' AND last_seen_at IS NOT NULL")
    fields = {
        "workload": "presence",
        "users": args.users,
        "lease_s": args.lease,
        "lease_left_at_kill_s": f"{float(lease_left):.2f}",
        "offline_after_kill_s": f"{offline_s:.2f}" if offline_s is not None else "never",
        "reaped_after_kill_s": f"{reaped_s:.2f}" if reaped_s is not None else "never",
        "last_seen_set": seen,
    }
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    sys.exit(0 if offline_s is not None and reaped_s is not None else 1)


if __name__ == "__main__":
    main()
