#!/usr/bin/env python3
"""Two users on a chatd: Alice starts a chat with Bob and sends a few messages while Bob tails
the room on another thread. Exits 0 when Bob received every message, in order.

Tokens are minted here with PyJWT, signed with chatd's HS256 secret: the one given to chatd
with --jwt-secret, or its development secret, the file <data-dir>/jwt-secret
(./.chatd/jwt-secret for scripts/run).

    pip install ./Clients/python PyJWT    # or PYTHONPATH=Clients/python in the repository
    python3 Clients/python/examples/two_users.py --secret-file .chatd/jwt-secret
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid

import grpc
import jwt

from chatd_client import connect, tail_room
from chatd_client.chat.v1 import chat_service_pb2 as chat
from chatd_client.social.v1 import user_service_pb2 as users

DEFAULT_MESSAGES = ("hi Bob", "are you there?", "see you tomorrow")

# Both threads print: print() writes the text and the newline separately, so without a lock
# two lines can end up on one.
_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


def mint(secret: str, user_id: str, name: str, ttl: int = 3600) -> str:
    """A token as an identity provider would issue it: chatd reads sub, name and exp."""
    claims = {"sub": user_id, "name": name, "exp": int(time.time()) + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="127.0.0.1:50051", help="chatd's host:port")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--secret", help="the HS256 secret (default: $CHATD_JWT_SECRET)")
    secret.add_argument("--secret-file", help="a file holding it, e.g. .chatd/jwt-secret")
    parser.add_argument("--users", nargs=2, default=("alice", "bob"), metavar=("ALICE", "BOB"),
                        help="the two user ids (default: alice bob)")
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="seconds to wait for the messages to arrive")
    parser.add_argument("messages", nargs="*", default=list(DEFAULT_MESSAGES),
                        help="what Alice sends")
    args = parser.parse_args(argv)
    if args.secret_file:
        with open(args.secret_file, encoding="utf-8") as f:
            args.secret = f.read().strip()
    args.secret = args.secret or os.environ.get("CHATD_JWT_SECRET")
    if not args.secret:
        parser.error("give --secret, --secret-file or CHATD_JWT_SECRET")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    alice_id, bob_id = args.users
    alice = connect(args.server, mint(args.secret, alice_id, "Alice"))
    bob = connect(args.server, mint(args.secret, bob_id, "Bob"))
    try:
        # A user's profile is created by their first call; StartChat needs the peer's.
        alice.users.GetMe(users.GetMeRequest(), timeout=10)
        bob.users.GetMe(users.GetMeRequest(), timeout=10)
        room = alice.chat.StartChat(chat.StartChatRequest(peer_user_id=bob_id), timeout=10)
        say(f"room {room.id} (last seq {room.last_seq})")

        # Bob follows the room from its current end, so earlier runs' messages are skipped;
        # every message sent after StartChat answered has a higher seq and is replayed.
        tail = tail_room(bob.chat, room.id, after_seq=room.last_seq)
        synced = threading.Event()
        received: list[tuple[int, str]] = []
        failure: list[BaseException] = []

        def follow() -> None:
            try:
                for event in tail:
                    kind = event.WhichOneof("event")
                    if kind == "synced":
                        synced.set()
                    elif kind == "message_created" and event.message_created.sender_id == alice_id:
                        body = event.message_created.body
                        say(f"{bob_id} received seq={event.seq}: {body}")
                        received.append((event.seq, body))
                        if len(received) == len(args.messages):
                            return
            except grpc.RpcError as error:
                failure.append(error)
            finally:
                synced.set()

        reader = threading.Thread(target=follow, name="tail", daemon=True)
        reader.start()
        synced.wait(args.timeout)  # not needed for correctness: keeps the output in order

        sent: list[tuple[int, str]] = []
        for body in args.messages:
            # client_msg_id makes a retried send post once.
            message = alice.chat.SendMessage(chat.SendMessageRequest(
                room_id=room.id, client_msg_id=str(uuid.uuid4()), body=body), timeout=10)
            say(f"{alice_id} sent seq={message.seq}: {body}")
            sent.append((message.seq, body))

        reader.join(args.timeout)
        tail.cancel()
        if failure:
            error = failure[0]
            print(f"error: the tail failed: {error.code().name} {error.details()}", file=sys.stderr)
            return 1
        if received != sent:
            print(f"error: sent {sent}, received {received}", file=sys.stderr)
            return 1
        say(f"ok: {bob_id} received all {len(sent)} messages in order")
        return 0
    except grpc.RpcError as error:
        print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finally:
        alice.close()
        bob.close()


if __name__ == "__main__":
    sys.exit(main())
