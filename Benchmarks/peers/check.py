#!/usr/bin/env python3
"""check.py HOST:PORT: checks that a server implements bench.v1.Chat as the peers must.

  1. three subscribers on a fresh room, then 100 sequential Sends: every reply carries seq
     1..100, and every subscriber receives exactly those 100 events in order, with the room,
     body and sent_at_ms of the matching Send;
  2. four concurrent senders (50 Sends each) to another fresh room with two subscribers:
     each subscriber receives seq 1..200 in order, each body once;
  3. an empty room_id answers INVALID_ARGUMENT, for Send and for Subscribe.

A subscription counts as established when its response headers arrive (the peers' contract,
see README.md). Exits 0 when every check passes, 1 with the first failure otherwise.

Runs with the Python peer's venv and stubs: run Benchmarks/peers/python/build first (this
script re-executes itself with that venv's interpreter).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "python", ".build")
VENV_PYTHON = os.path.join(PEER, "venv", "bin", "python")

if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(PEER, "venv")):
    if not os.path.exists(VENV_PYTHON):
        sys.exit(f"check.py: run {os.path.join(HERE, 'python', 'build')} first")
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])

import asyncio  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import grpc  # noqa: E402

sys.path.insert(0, os.path.join(PEER, "gen"))
from bench.v1 import bench_pb2, bench_pb2_grpc  # noqa: E402

TIMEOUT = 10.0  # seconds for any one step; a hang is a failure, not a wait


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


async def subscribe(stub, room_id):
    call = stub.Subscribe(bench_pb2.SubscribeRequest(room_id=room_id))
    await asyncio.wait_for(call.initial_metadata(), TIMEOUT)
    return call


async def receive(call, count):
    events = []
    while len(events) < count:
        event = await asyncio.wait_for(call.read(), TIMEOUT)
        expect(event is not grpc.aio.EOF, f"stream ended after {len(events)} events")
        events.append(event)
    return events


async def check_sequential(stub):
    room = f"check-{uuid.uuid4()}"
    calls = [await subscribe(stub, room) for _ in range(3)]
    replies = []
    for i in range(1, 101):
        reply = await stub.Send(
            bench_pb2.SendRequest(room_id=room, body=f"body {i}", client_msg_id=f"m{i}"),
            timeout=TIMEOUT,
        )
        expect(reply.seq == i, f"Send {i} replied seq {reply.seq}")
        expect(abs(reply.sent_at_ms - time.time() * 1000) < 60_000,
               f"Send {i} sent_at_ms {reply.sent_at_ms} is not the wall clock in ms")
        replies.append(reply)
    for n, call in enumerate(calls, 1):
        events = await receive(call, 100)
        for i, (event, reply) in enumerate(zip(events, replies), 1):
            got = (event.seq, event.room_id, event.body, event.sent_at_ms)
            want = (i, room, f"body {i}", reply.sent_at_ms)
            expect(got == want, f"subscriber {n} event {i}: got {got}, want {want}")
        call.cancel()
    print("ok: 3 subscribers each got seq 1..100 in order with the right bodies")


async def check_concurrent(stub):
    room = f"check-{uuid.uuid4()}"
    calls = [await subscribe(stub, room) for _ in range(2)]

    async def sender(name):
        for i in range(50):
            await stub.Send(bench_pb2.SendRequest(room_id=room, body=f"{name}-{i}"),
                            timeout=TIMEOUT)

    await asyncio.wait_for(asyncio.gather(*(sender(f"s{k}") for k in range(4))), TIMEOUT)
    want_bodies = {f"s{k}-{i}" for k in range(4) for i in range(50)}
    for n, call in enumerate(calls, 1):
        events = await receive(call, 200)
        seqs = [event.seq for event in events]
        expect(seqs == list(range(1, 201)), f"subscriber {n}: seqs out of order: {seqs[:20]}...")
        bodies = [event.body for event in events]
        expect(len(set(bodies)) == 200 and set(bodies) == want_bodies,
               f"subscriber {n}: bodies are not the 200 sent ones")
        call.cancel()
    print("ok: 4 concurrent senders, 2 subscribers each got seq 1..200 in order")


async def check_invalid(stub):
    try:
        await stub.Send(bench_pb2.SendRequest(room_id="", body="x"), timeout=TIMEOUT)
        raise CheckFailed("Send with an empty room_id succeeded")
    except grpc.aio.AioRpcError as error:
        expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT,
               f"Send with an empty room_id: {error.code()}, want INVALID_ARGUMENT")
    call = stub.Subscribe(bench_pb2.SubscribeRequest(room_id=""))
    try:
        await asyncio.wait_for(call.read(), TIMEOUT)
        raise CheckFailed("Subscribe with an empty room_id streamed")
    except grpc.aio.AioRpcError as error:
        expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT,
               f"Subscribe with an empty room_id: {error.code()}, want INVALID_ARGUMENT")
    print("ok: empty room_id gives INVALID_ARGUMENT (Send and Subscribe)")


async def main(target):
    async with grpc.aio.insecure_channel(target) as channel:
        await asyncio.wait_for(channel.channel_ready(), TIMEOUT)
        stub = bench_pb2_grpc.ChatStub(channel)
        await check_sequential(stub)
        await check_concurrent(stub)
        await check_invalid(stub)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check.py HOST:PORT")
    try:
        asyncio.run(main(sys.argv[1]))
    except (CheckFailed, grpc.aio.AioRpcError, asyncio.TimeoutError) as error:
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"check.py: {sys.argv[1]} passed")
