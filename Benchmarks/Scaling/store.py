"""Store latency as history grows: the RPCs a client makes, on rooms of 10^3..10^6 messages.

The data comes from history.sql (rooms titled h<size>, the reader `bench` with 50 unread in
each, 1,000 more small rooms). For each history room, sequentially (one call at a time, so
the figure is the call's own latency), --calls of each:

  send          SendMessage from s1 (a durable append: commit, WAL flush)
  latest        GetMessages, the latest 50
  old           GetMessages, 50 before seq 100 (the oldest history)
  replay        SubscribeRoom after last_seq - 256: until `synced` (256 events replayed)
  unread        GetRoom as bench: the room with its unread count (50)
  listrooms     ListRooms as bench, first page of 20 (of 1,000+ rooms)

then --seconds of SendMessage from --senders threads at once (s1..s9, all to the room):
durable sends per second. Prints one `workload=store ...` line per room and call.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import jwt

from chatd_client import connect
from chatd_client.chat.v1 import chat_service_pb2 as chat


def token(user: str) -> str:
    claims = {"sub": user, "name": user, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, os.environ["CHATD_JWT_SECRET"], algorithm="HS256")


def summary(samples: list[float]) -> dict[str, str]:
    samples = sorted(samples)

    def at(p: float) -> float:
        return samples[max(0, min(len(samples) - 1, int(p / 100 * len(samples) + 0.999) - 1))]

    return {
        "calls": str(len(samples)),
        "p50_ms": f"{at(50) * 1000:.2f}",
        "p99_ms": f"{at(99) * 1000:.2f}",
        "max_ms": f"{samples[-1] * 1000:.2f}",
    }


def timed(calls: int, body) -> list[float]:
    body(0)  # warm: connection, caches, prepared plans
    out = []
    for i in range(calls):
        start = time.perf_counter()
        body(i + 1)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()

    bench = connect(args.target, token("bench"))
    sender = connect(args.target, token("s1"))
    rooms = {}
    page_token = ""
    while True:
        page = bench.chat.ListRooms(chat.ListRoomsRequest(page_size=200, page_token=page_token))
        for summary_ in page.rooms:
            rooms[summary_.room.title] = summary_.room.id
        page_token = page.next_page_token
        if not page_token:
            break
    run = str(int(time.time()))
    for size in (int(s) for s in args.sizes.split(",")):
        room = rooms[f"h{size}"]

        def line(call: str, samples: list[float], **extra: str) -> None:
            fields = {"workload": "store", "history": str(size), "call": call,
                      **summary(samples), **extra}
            print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)

        line("send", timed(args.calls, lambda i: sender.chat.SendMessage(chat.SendMessageRequest(
            room_id=room, client_msg_id=f"seq-{run}-{size}-{i}", body="hello"))))
        line("latest", timed(args.calls, lambda i: bench.chat.GetMessages(
            chat.GetMessagesRequest(room_id=room, limit=50))))
        line("old", timed(args.calls, lambda i: bench.chat.GetMessages(
            chat.GetMessagesRequest(room_id=room, before_seq=100, limit=50))))

        def replay(_: int) -> None:
            last = bench.chat.GetRoom(chat.GetRoomRequest(room_id=room)).room.last_seq
            stream = bench.chat.SubscribeRoom(
                chat.SubscribeRoomRequest(room_id=room, after_seq=max(0, last - 256)))
            events = 0
            for event in stream:
                if event.WhichOneof("event") == "synced":
                    break
                events += 1
            stream.cancel()
            assert events >= min(256, last), events

        line("replay", timed(max(10, args.calls // 5), replay))
        line("unread", timed(args.calls, lambda i: bench.chat.GetRoom(
            chat.GetRoomRequest(room_id=room))))
        line("listrooms", timed(args.calls, lambda i: bench.chat.ListRooms(
            chat.ListRoomsRequest(page_size=20))))

        # Durable sends per second, several senders at once into the room (group commit).
        done = threading.Event()
        counts = [0] * args.senders
        latencies: list[list[float]] = [[] for _ in range(args.senders)]

        def send_loop(k: int) -> None:
            client = connect(args.target, token(f"s{1 + k % 9}"))
            n = 0
            while not done.is_set():
                start = time.perf_counter()
                client.chat.SendMessage(chat.SendMessageRequest(
                    room_id=room, client_msg_id=f"par-{run}-{size}-{k}-{n}", body="hi"))
                latencies[k].append(time.perf_counter() - start)
                n += 1
            counts[k] = n
            client.close()

        threads = [threading.Thread(target=send_loop, args=(k,)) for k in range(args.senders)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        done.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        line("send_concurrent", [x for part in latencies for x in part],
             senders=str(args.senders), sends_per_s=f"{sum(counts) / wall:.0f}")


if __name__ == "__main__":
    main()
