"""A scripted session of a chatd built with AddressSanitizer (scripts/sanitize leaks): TLS
with a server chain, push on against the fake OneSignal, and through grpcio every kind of call
(unary, streams that end every way, bad input, failed handshakes); then SIGTERM, and
LeakSanitizer's report at the graceful exit. Exit 1 when ASan reports a leak or any error;
the figures go to stdout.

    python leak_session.py --binary .build-asan/debug/chatd --log /tmp/lsan

Not valgrind: valgrind 3.19 (Debian 12) cannot read the DWARF 5 of Swift 6 binaries, and with
the debug info stripped it dies of an internal SIGSEGV while chatd starts."""

from __future__ import annotations

import argparse
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import grpc

import harness
from harness import M, BreakableOneSignal, Database, log
from chatd_interop import protos
from chatd_interop.pki import PKI
from chatd_interop.server import ChatdProcess
from chatd_interop.users import User
from chatd_interop.streams import Tail


def session(server: ChatdProcess, credentials: grpc.ChannelCredentials, bad: grpc.ChannelCredentials) -> dict:
    counts = {"calls": 0, "errors": 0}

    def expect_error(fn, *codes):
        try:
            fn()
        except grpc.RpcError as error:
            assert error.code() in codes, f"{error.code()} {error.details()}"
            counts["errors"] += 1
            return
        raise AssertionError("no error")

    with server.open_channel(credentials) as channel:
        ana, ben = User(channel, "Ana"), User(channel, "Ben")
        ana.me(), ben.me()
        service = User(channel, "Svc", role="service")
        room = ana.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="leaks",
                                      member_user_ids=[ben.id]))
        room_tail = Tail(ana.chat.SubscribeRoom(
            M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=0), timeout=600))
        user_tail = Tail(ben.chat.SubscribeUser(M("chat.v1.SubscribeUserRequest"), timeout=600))
        fire_tail = Tail(service.chat.SubscribeAllRooms(
            M("chat.v1.SubscribeAllRoomsRequest", room_ids=[room.id]), timeout=600))
        for i in range(30):
            sender = ana if i % 2 else ben
            sender.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                                      body=f"message {i} " + "x" * (i * 40),
                                      client_msg_id=str(uuid.uuid4())), timeout=60)
            counts["calls"] += 1
        ben.follows.Follow(M("social.v1.FollowRequest", user_id=ana.id), timeout=60)
        ben.chat.SendTyping(M("chat.v1.SendTypingRequest", room_id=room.id, typing=True),
                            timeout=60)
        ana.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id, limit=50),
                             timeout=60)
        ana.chat.ListRooms(M("chat.v1.ListRoomsRequest"), timeout=60)
        ana.chat.SearchMessages(M("chat.v1.SearchMessagesRequest", query="message"), timeout=60)
        ben.chat.MarkRead(M("chat.v1.MarkReadRequest", room_id=room.id, up_to_seq=10), timeout=60)
        counts["calls"] += 6
        room_tail.until(lambda e: e.seq >= 30, timeout=120)
        # Streams end every way: cancelled by the client, and (below) at shutdown.
        fire_tail.cancel()
        # Bad input: refused with a status, nothing kept.
        expect_error(lambda: ana.chat.SendMessage(M("chat.v1.SendMessageRequest",
                                                    room_id="not-a-uuid", body="x",
                                                    client_msg_id="c"), timeout=60),
                     grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
        raw = channel.unary_unary("/chat.v1.ChatService/SendMessage",
                                  request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        expect_error(lambda: raw(b"\xff\xff\xff\x0f garbage", timeout=60,
                                 metadata=(("authorization", f"Bearer {ana.token}"),)),
                     grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL)
        unknown = channel.unary_unary("/chat.v1.ChatService/Nope",
                                      request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
        expect_error(lambda: unknown(b"", timeout=60), grpc.StatusCode.UNIMPLEMENTED)
        anonymous = protos.stub(channel, "chat.v1.ChatService")
        expect_error(lambda: anonymous.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id),
                                               metadata=(("authorization", "Bearer nope"),),
                                               timeout=60),
                     grpc.StatusCode.UNAUTHENTICATED)
        # A connection that dies mid-stream: a second channel, closed under its stream.
        side = server.open_channel(credentials)
        side_user = User(side, "Side", user_id=ana.id)
        side_tail = Tail(side_user.chat.SubscribeRoom(
            M("chat.v1.SubscribeRoomRequest", room_id=room.id, after_seq=0), timeout=600))
        side_tail.next(timeout=60)
        side.close()
    # A TLS client that does not trust the server, and bytes that are no TLS at all.
    with grpc.secure_channel(server.address, bad) as untrusted:
        try:
            grpc.channel_ready_future(untrusted).result(timeout=20)
        except grpc.FutureTimeoutError:
            counts["errors"] += 1
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
        try:
            s.recv(1024)
        except OSError:
            pass
    # Half a handshake, then gone.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=30) as s:
        try:
            with context.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")  # preface, then close
        except (ssl.SSLError, OSError):
            pass
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", type=Path, required=True)
    p.add_argument("--log", type=Path, required=True,
                   help="where ASan writes its reports (as <log>.<pid>)")
    p.add_argument("--suppressions", type=Path)
    args = p.parse_args(argv)
    harness.load_protos()
    workdir = Path(tempfile.mkdtemp(prefix="chatd-leaks."))
    pki = PKI(workdir / "pki")
    root = pki.root("root", "Leak Test Root")
    certificate = pki.server("server", root)
    other = pki.root("other", "Unrelated Root")
    db = Database(prefix="chatd-leaks-pg.")
    fake = BreakableOneSignal().start()
    credentials = grpc.ssl_channel_credentials(root_certificates=root.cert.read_bytes())
    bad = grpc.ssl_channel_credentials(root_certificates=other.cert.read_bytes())
    server = ChatdProcess(
        args.binary, workdir / "run", credentials=credentials,
        extra_args=("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key),
                    "--rate-limit", "off", "--heartbeat-interval", "1",
                    *harness.push_args(fake.url)),
        extra_env={"CHATD_DATABASE_URL": db.url,
                   # Leaks are checked at exit; a report goes to <log>.<pid>.
                   "ASAN_OPTIONS": f"detect_leaks=1:log_path={args.log}:"
                                   "print_suppressions=0:fast_unwind_on_malloc=0",
                   "LSAN_OPTIONS": f"suppressions={args.suppressions}" if args.suppressions
                   else ""})
    server.database_url = db.url
    try:
        log("starting chatd (AddressSanitizer)")
        server.start(ready_timeout=600)
        log("session")
        t0 = time.monotonic()
        counts = session(server, credentials, bad)
        time.sleep(5)  # pushes go out, deliveries flush
        log(f"session done in {time.monotonic() - t0:.0f} s: {counts}; SIGTERM")
        code = server.stop(grace=600)
    finally:
        if server.is_running():
            server.kill()
        fake.stop()
        db.destroy()
    reports = sorted(args.log.parent.glob(args.log.name + ".*"))
    text = "".join(r.read_text(errors="replace") for r in reports)
    direct = re.findall(r"Direct leak of (\d+) byte", text)
    indirect = re.findall(r"Indirect leak of (\d+) byte", text)
    errors = re.findall(r"ERROR: AddressSanitizer: ([\w-]+)", text)
    print(f"chatd exit code {code}; session {counts}; LeakSanitizer: {len(direct)} direct "
          f"leak(s) of {sum(map(int, direct))} bytes, {len(indirect)} indirect of "
          f"{sum(map(int, indirect))} bytes; AddressSanitizer errors: {errors or 'none'}")
    print(f"reports: {[str(r) for r in reports] or 'none'}")
    return 0 if code == 0 and not direct and not indirect and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
