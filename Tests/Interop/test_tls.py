"""TLS (OpenSSL in chatd): grpcio, grpcurl and `openssl s_client` connect and call; client
certificates make service principals; refusals end the handshake with the right alert;
stalled handshakes are closed; SIGHUP reloads the certificate without dropping streams.
Certificates are made at test time with the openssl CLI (chatd_interop.pki)."""

from __future__ import annotations

import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatd_interop import protos
from chatd_interop.pki import PKI, Credential
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.users import User

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")

HANDSHAKE_TIMEOUT = 1.0


class Certificates:
    def __init__(self, folder: Path):
        pki = PKI(folder)
        self.root = pki.root("root", "chatd test root")
        intermediate = pki.intermediate("intermediate", self.root)
        self.server = pki.server("chatd-a", intermediate, chain=intermediate)
        self.server_b = pki.server("chatd-b", intermediate, chain=intermediate)
        self.clients_ca = pki.root("clients-ca", "chatd test clients")
        self.indexer = pki.client("indexer", self.clients_ca, common_name="indexer-service")
        self.spiffe = pki.client("spiffe", self.clients_ca, san="URI:spiffe://chatd.test/search")
        self.other_ca = pki.root("other-ca", "someone else")
        self.foreign = pki.client("foreign", self.other_ca, common_name="indexer-service")
        self.self_signed = pki.self_signed("self-signed", "indexer-service")

    def credentials(self, client: Credential | None = None) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root.cert.read_bytes(),
            private_key=client.key.read_bytes() if client else None,
            certificate_chain=client.cert.read_bytes() if client else None)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("pki"))


def start_tls_chatd(folder: Path, certs: Certificates, client_auth: str,
                    cert: Credential | None = None) -> ChatdProcess:
    cert = cert or certs.server
    server = ChatdProcess(
        chatd_binary(), folder,
        extra_args=("--tls-cert", str(cert.cert), "--tls-key", str(cert.key),
                    "--tls-client-ca", str(certs.clients_ca.cert),
                    "--tls-client-auth", client_auth,
                    "--tls-handshake-timeout", str(HANDSHAKE_TIMEOUT)),
        credentials=certs.credentials(certs.indexer if client_auth == "require" else None))
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    return server


@pytest.fixture(scope="module")
def tls_chatd(tmp_path_factory, certs):
    """Client certificates optional."""
    server = start_tls_chatd(tmp_path_factory.mktemp("chatd-tls"), certs, "optional")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_chatd(tmp_path_factory, certs):
    """Client certificates required."""
    server = start_tls_chatd(tmp_path_factory.mktemp("chatd-mtls"), certs, "require")
    yield server
    server.stop()


def check(channel: grpc.Channel) -> int:
    reply = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=10)
    return reply.status


def get_me(channel: grpc.Channel, metadata=()):
    call, request = protos.unary_method(channel, "social.v1.UserService", "GetMe")
    return call(request(), metadata=metadata, timeout=10)


def rpc_code(body) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        body()
    return info.value.code()


# --- clients that connect and call -----------------------------------------------------------

def test_grpcio_health_and_token_over_tls(tls_chatd, certs):
    with tls_chatd.open_channel() as channel:
        assert check(channel) == health_pb2.HealthCheckResponse.SERVING
        user = User(channel, "Ada")
        assert user.me().id == user.id


def test_client_certificate_is_a_service_principal(tls_chatd, certs):
    with tls_chatd.open_channel() as users, \
            tls_chatd.open_channel(certs.credentials(certs.indexer)) as service:
        assert get_me(service).id == "indexer-service"
        alice, bob, stranger = User(users, "Alice"), User(users, "Bob"), User(users, "Stranger")
        for user in (alice, bob, stranger):
            user.me()
        room = alice.chat.StartChat(protos.message("chat.v1.StartChatRequest")(peer_user_id=bob.id))
        alice.chat.SendMessage(protos.message("chat.v1.SendMessageRequest")(
            room_id=room.id, body="hello", client_msg_id=uuid.uuid4().hex))
        get_messages = protos.stub(service, "chat.v1.ChatService").GetMessages
        request = protos.message("chat.v1.GetMessagesRequest")(room_id=room.id)
        # The service role reads any room; a user who is not a member does not see it.
        assert [m.body for m in get_messages(request, timeout=10).messages] == ["hello"]
        assert rpc_code(lambda: stranger.chat.GetMessages(request)) == grpc.StatusCode.NOT_FOUND


def test_subject_alt_name_names_a_certificate_without_common_name(tls_chatd, certs):
    with tls_chatd.open_channel(certs.credentials(certs.spiffe)) as channel:
        assert get_me(channel).id == "spiffe://chatd.test/search"


def test_bearer_token_wins_over_client_certificate(tls_chatd, certs):
    with tls_chatd.open_channel(certs.credentials(certs.indexer)) as channel:
        user = User(channel, "Grace")
        assert user.me().id == user.id


def test_no_certificate_and_no_token_is_unauthenticated(tls_chatd):
    with tls_chatd.open_channel() as channel:
        assert rpc_code(lambda: get_me(channel)) == grpc.StatusCode.UNAUTHENTICATED


def test_grpcurl_with_cacert_and_client_certificate(tls_chatd, certs, grpcurl):
    base = [grpcurl, "-cacert", str(certs.root.cert)]
    health = subprocess.run(
        [*base, "-d", '{"service":""}', tls_chatd.address, "grpc.health.v1.Health/Check"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout)["status"] == "SERVING"
    me = subprocess.run(
        [*base, "-cert", str(certs.indexer.cert), "-key", str(certs.indexer.key),
         tls_chatd.address, "social.v1.UserService/GetMe"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["id"] == "indexer-service"


def h2_health_check_bytes() -> tuple[h2.connection.H2Connection, bytes]:
    connection = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    connection.initiate_connection()
    connection.send_headers(1, [
        (":method", "POST"), (":scheme", "https"), (":path", "/grpc.health.v1.Health/Check"),
        (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers")])
    connection.send_data(1, b"\x00\x00\x00\x00\x00", end_stream=True)
    return connection, connection.data_to_send()


def test_openssl_s_client_alpn_h2_calls_health(tls_chatd, certs):
    connection, request = h2_health_check_bytes()
    process = subprocess.Popen(
        ["openssl", "s_client", "-connect", tls_chatd.address, "-alpn", "h2",
         "-CAfile", str(certs.root.cert), "-servername", "localhost", "-verify_return_error",
         "-quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    status = None
    try:
        process.stdin.write(request)
        process.stdin.flush()
        deadline = time.monotonic() + 10
        while status is None and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            for event in connection.receive_data(chunk):
                if isinstance(event, h2.events.TrailersReceived):
                    status = dict(event.headers).get("grpc-status")
    finally:
        process.kill()
        _, errors = process.communicate(timeout=5)
    assert status == "0", errors.decode(errors="replace")


def h2_context(certs) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.root.cert))
    context.set_alpn_protocols(["h2"])
    return context


def h2_tls_socket(server, certs, session=None, context=None) -> ssl.SSLSocket:
    """A TLS connection with ALPN h2 that has sent the HTTP/2 preface and read the server's
    first bytes (so TLS 1.3 session tickets have arrived)."""
    context = context or h2_context(certs)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    tls = context.wrap_socket(raw, server_hostname="localhost", session=session)
    assert tls.selected_alpn_protocol() == "h2"
    assert tls.version() == "TLSv1.3"
    tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    assert tls.recv(9)  # the server's SETTINGS frame header
    return tls


def test_sessions_resume_from_tickets(tls_chatd, certs):
    context = h2_context(certs)
    with h2_tls_socket(tls_chatd, certs, context=context) as first:
        assert not first.session_reused
        session = first.session
    with h2_tls_socket(tls_chatd, certs, session=session, context=context) as second:
        assert second.session_reused


# --- refusals ---------------------------------------------------------------------------------

def s_client(server, *args: str) -> str:
    result = subprocess.run(
        ["openssl", "s_client", "-connect", server.address, "-servername", "localhost", *args],
        capture_output=True, timeout=15, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    return (result.stdout + result.stderr).decode(errors="replace")


def python_tls(server, certs, alpn: list[str] | None) -> ssl.SSLError:
    context = ssl.create_default_context(cafile=str(certs.root.cert))
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError) as info:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.recv(1)
    return info.value


@pytest.mark.parametrize("alpn", [None, ["http/1.1"]], ids=["no-alpn", "http1.1-only"])
def test_clients_without_h2_get_no_application_protocol(tls_chatd, certs, alpn):
    assert "no application protocol" in str(python_tls(tls_chatd, certs, alpn)).lower()
    flags = ["-alpn", ",".join(alpn)] if alpn else []
    assert "no application protocol" in s_client(tls_chatd, "-CAfile", str(certs.root.cert), *flags)
    tls_chatd.assert_serving()


def client_hello(version: bytes) -> bytes:
    """A minimal ClientHello for `version` (b"\\x03\\x02" is TLS 1.1) that offers h2, so that
    only the version can be what is refused."""
    suites = b"\xc0\x2b\xc0\x2f\xc0\x13\xc0\x14\x00\x2f\x00\x35"
    names = b"\x02h2"
    alpn = struct.pack(">HHH", 16, len(names) + 2, len(names)) + names
    body = (version + os.urandom(32) + b"\x00" + struct.pack(">H", len(suites)) + suites
            + b"\x01\x00" + struct.pack(">H", len(alpn)) + alpn)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


def read_until_closed(sock: socket.socket, limit: float) -> bytes:
    sock.settimeout(limit)
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return received
        received += chunk


@pytest.mark.parametrize("version", [b"\x03\x01", b"\x03\x02"], ids=["tls1.0", "tls1.1"])
def test_old_protocol_versions_get_protocol_version_alert(tls_chatd, version):
    with socket.create_connection(("127.0.0.1", tls_chatd.port), timeout=5) as sock:
        sock.sendall(client_hello(version))
        answer = read_until_closed(sock, 5)
    # One alert record: level fatal (2), description protocol_version (70).
    assert answer[:1] == b"\x15" and answer[5:7] == b"\x02\x46", answer.hex()


def test_openssl_s_client_tls1_1_is_refused(tls_chatd, certs):
    output = s_client(tls_chatd, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-alpn", "h2",
                      "-CAfile", str(certs.root.cert))
    # Either the server's alert, or this OpenSSL build will not even offer TLS 1.1.
    assert "protocol version" in output or "no protocols available" in output, output


@pytest.mark.parametrize("client", [None, "foreign", "self_signed"])
def test_required_client_certificate_refusals(strict_chatd, certs, client):
    credential = getattr(certs, client) if client else None
    with strict_chatd.open_channel(certs.credentials(credential)) as channel:
        assert rpc_code(lambda: check(channel)) == grpc.StatusCode.UNAVAILABLE
    with strict_chatd.open_channel() as channel:  # the fixture's trusted certificate
        assert get_me(channel).id == "indexer-service"


def test_optional_client_certificate_from_another_ca_is_refused(tls_chatd, certs):
    with tls_chatd.open_channel(certs.credentials(certs.foreign)) as channel:
        assert rpc_code(lambda: check(channel)) == grpc.StatusCode.UNAVAILABLE
    tls_chatd.assert_serving()


@pytest.mark.parametrize("garbage", [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                     b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", os.urandom(512)],
                         ids=["http1", "h2c-preface", "random"])
def test_garbage_instead_of_client_hello_is_closed(tls_chatd, garbage):
    with socket.create_connection(("127.0.0.1", tls_chatd.port), timeout=5) as sock:
        sock.sendall(garbage)
        answer = read_until_closed(sock, 5)
    assert answer == b"" or answer[:1] == b"\x15", answer.hex()
    tls_chatd.assert_serving()


def open_descriptors(server: ChatdProcess) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def test_stalled_handshakes_are_closed_and_leave_nothing_behind(tls_chatd):
    before = open_descriptors(tls_chatd)
    sockets = [socket.create_connection(("127.0.0.1", tls_chatd.port)) for _ in range(10)]
    try:
        sockets[0].sendall(client_hello(b"\x03\x03")[:20])  # half a ClientHello
        started = time.monotonic()
        for sock in sockets:
            assert read_until_closed(sock, HANDSHAKE_TIMEOUT + 5) == b""
        elapsed = time.monotonic() - started
        assert HANDSHAKE_TIMEOUT * 0.8 <= elapsed <= HANDSHAKE_TIMEOUT + 3
        deadline = time.monotonic() + 3
        while open_descriptors(tls_chatd) > before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert open_descriptors(tls_chatd) <= before
    finally:
        for sock in sockets:
            sock.close()
    tls_chatd.assert_serving()


# --- reload -----------------------------------------------------------------------------------

def served_certificate(server: ChatdProcess, certs: Certificates) -> bytes:
    context = ssl.create_default_context(cafile=str(certs.root.cert))
    context.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


def der(credential: Credential) -> bytes:
    """The leaf: the first certificate of the chain file."""
    end = "-----END CERTIFICATE-----"
    leaf = credential.cert.read_text().split(end)[0] + end + "\n"
    return ssl.PEM_cert_to_DER_cert(leaf)


def test_sighup_reloads_the_certificate_while_streams_keep_flowing(tmp_path, certs):
    live = Credential(tmp_path / "live.pem", tmp_path / "live.key")
    shutil.copy(certs.server.cert, live.cert)
    shutil.copy(certs.server.key, live.key)
    server = start_tls_chatd(tmp_path / "chatd", certs, "optional", cert=live)
    try:
        assert served_certificate(server, certs) == der(certs.server)
        with server.open_channel() as channel:
            requests: queue.Queue = queue.Queue()
            Request = protos.message("grpc.testing.StreamingOutputCallRequest")
            Parameters = protos.message("grpc.testing.ResponseParameters")

            def outgoing():
                while (item := requests.get()) is not None:
                    yield item

            duplex = protos.stub(channel, "grpc.testing.TestService").FullDuplexCall(
                outgoing(), timeout=30)
            ping = Request(response_parameters=[Parameters(size=3)])
            requests.put(ping)
            assert len(next(duplex).payload.body) == 3

            shutil.copy(certs.server_b.cert, live.cert)
            shutil.copy(certs.server_b.key, live.key)
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while served_certificate(server, certs) != der(certs.server_b):
                assert time.monotonic() < deadline, "the new certificate was not served\n" + \
                    server.log_tail()
                time.sleep(0.1)

            # The stream opened before the reload still flows, on the old connection.
            for _ in range(3):
                requests.put(ping)
                assert len(next(duplex).payload.body) == 3
            assert check(channel) == health_pb2.HealthCheckResponse.SERVING

            # A broken file is refused; the last good certificate keeps serving.
            live.cert.write_text("not a certificate\n")
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while "TLS reload failed" not in server.log_path.read_text(errors="replace"):
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.1)
            assert served_certificate(server, certs) == der(certs.server_b)
            requests.put(ping)
            assert len(next(duplex).payload.body) == 3
            requests.put(None)
        server.assert_serving()

        # Shutdown ends TLS with close_notify: a clean end of stream, not a truncation
        # (which Python reports as SSLEOFError).
        with h2_tls_socket(server, certs) as idle:
            assert server.stop() == 0, server.log_tail()
            idle.settimeout(5)
            while idle.recv(65536):
                pass
    finally:
        assert server.stop() == 0, server.log_tail()


# --- plaintext --------------------------------------------------------------------------------

def test_plaintext_warns_on_a_non_loopback_address_only(tmp_path, chatd):
    assert "PLAINTEXT" not in chatd.log_path.read_text(errors="replace")
    server = ChatdProcess(chatd_binary(), tmp_path, listen_host="0.0.0.0")
    try:
        server.start()
        log = server.log_path.read_text(errors="replace")
        assert "level=warning" in log and "PLAINTEXT h2c ON A NON-LOOPBACK ADDRESS" in log, log
    finally:
        server.stop()


@pytest.mark.parametrize("flags,message", [
    (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
     "cannot load the certificate chain"),
    (["--tls-cert", "CERT"], "--tls-cert needs --tls-key"),
    (["--tls-cert", "CERT", "--tls-key", "KEY", "--tls-client-auth", "require"],
     "--tls-client-auth needs --tls-client-ca"),
    (["--tls-cert", "CERT", "--tls-key", "OTHER_KEY"], "key values mismatch"),
], ids=["missing-files", "no-key", "auth-without-ca", "wrong-key"])
def test_bad_tls_configuration_stops_chatd_at_start(tmp_path, certs, flags, message):
    names = {"CERT": certs.server.cert, "KEY": certs.server.key, "OTHER_KEY": certs.indexer.key}
    flags = [str(names.get(flag, flag)) for flag in flags]
    result = subprocess.run(
        [str(chatd_binary()), "--listen", "127.0.0.1:0", *flags],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        env=dict(os.environ, CHATD_DATA_DIR=str(tmp_path / "data"), CHATD_DATABASE_URL=""))
    assert result.returncode != 0
    assert message in result.stderr + result.stdout, result.stderr


def test_chatctl_and_the_swift_client_over_tls(tls_chatd, certs):
    from chatd_interop.server import chatctl_binary
    from chatd_interop.tokens import mint, new_user_id

    user = new_user_id()
    env = {"CHATCTL_SERVER": tls_chatd.address, "CHATCTL_TOKEN": mint(user, "Tess")}

    def chatctl(*args):
        return subprocess.run([str(chatctl_binary()), *args], capture_output=True, text=True,
                              env=env, timeout=30, stdin=subprocess.DEVNULL)

    trusted = chatctl("whoami", "--json", "--tls-ca", str(certs.root.cert))
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["id"] == user
    # Verification is on: a server whose CA is not trusted is refused.
    untrusted = chatctl("whoami", "--tls-ca", str(certs.other_ca.cert))
    assert untrusted.returncode == 1 and "UNAVAILABLE" in untrusted.stderr
    plaintext = chatctl("whoami")
    assert plaintext.returncode == 1, "h2c against a TLS port must fail"


# --- a systematic scan of the TLS configuration (openssl s_client) ----------------------------

# What the server may negotiate: TLS 1.2 with ECDHE and an AEAD (RFC 9113 appendix A's
# allowed list), TLS 1.3's AEAD suites except CCM_8.
ALLOWED_TLS12 = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                 "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                 "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"}
ALLOWED_TLS13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                 "TLS_CHACHA20_POLY1305_SHA256"}


def handshake(server, certs, *args: str, stdin: bytes = b"") -> str:
    """s_client's report of one handshake (it exits when stdin ends)."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", server.address, "-servername", "localhost",
         "-CAfile", str(certs.root.cert), "-alpn", "h2", *args],
        input=stdin, capture_output=True, timeout=20)
    return (result.stdout + result.stderr).decode(errors="replace")


def negotiated_cipher(output: str) -> str | None:
    match = re.search(r"Cipher is (\S+)", output)
    return None if match is None or match.group(1) == "(NONE)" else match.group(1)


def openssl_ciphers(spec: str) -> list[str]:
    result = subprocess.run(["openssl", "ciphers", spec], capture_output=True, text=True)
    return result.stdout.strip().split(":") if result.returncode == 0 else []


def test_scan_every_tls12_cipher_this_openssl_knows(tls_chatd, certs):
    """Each cipher the local OpenSSL knows (security level 0: the weak ones too), offered
    alone over TLS 1.2: only ECDHE with AES-GCM or ChaCha20 is accepted."""
    names = [n for n in openssl_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
             if not n.startswith("TLS_")]
    assert len(names) > 40, names
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = dict(zip(names, pool.map(
            lambda n: handshake(tls_chatd, certs, "-tls1_2", "-cipher", f"{n}:@SECLEVEL=0"),
            names)))
    accepted = {n for n, out in outputs.items() if negotiated_cipher(out)}
    assert accepted, "no TLS 1.2 cipher was accepted at all"
    assert accepted <= ALLOWED_TLS12, accepted - ALLOWED_TLS12
    for name in accepted:
        assert "Protocol  : TLSv1.2" in outputs[name] or "TLSv1.2" in outputs[name]
    tls_chatd.assert_serving()


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                   "TLS_AES_128_CCM_8_SHA256"])
def test_scan_tls13_suites(tls_chatd, certs, suite):
    output = handshake(tls_chatd, certs, "-tls1_3", "-ciphersuites", suite)
    assert (negotiated_cipher(output) == suite) == (suite in ALLOWED_TLS13), output[-600:]


# Suites OpenSSL 3 may no longer even offer, sent in a hand-made TLS 1.2 ClientHello: the
# server must answer a handshake_failure alert (40) for each, whatever the local build has.
WEAK_SUITES = {
    "NULL-MD5": 0x0001, "NULL-SHA": 0x0002, "EXP-RC4-MD5": 0x0003, "RC4-MD5": 0x0004,
    "RC4-SHA": 0x0005, "EXP-DES-CBC-SHA": 0x0008, "DES-CBC-SHA": 0x0009,
    "DES-CBC3-SHA": 0x000A, "ADH-RC4-MD5": 0x0018, "ADH-AES128-SHA": 0x0034,
    "AES128-SHA": 0x002F, "AES256-SHA256": 0x003D, "AES128-GCM-SHA256 (no forward secrecy)":
    0x009C, "ECDHE-RSA-AES128-SHA (CBC)": 0xC013, "ECDHE-RSA-DES-CBC3-SHA": 0xC012,
    "ECDHE-RSA-RC4-SHA": 0xC011, "ECDHE-RSA-NULL-SHA": 0xC010, "AECDH-AES128-SHA": 0xC018,
    "DHE-RSA-AES128-GCM-SHA256 (finite-field DH)": 0x009E,
}


def tls12_hello(suites: list[int]) -> bytes:
    """A TLS 1.2 ClientHello offering `suites`, ALPN h2 and the usual curves and signature
    algorithms, so that only the suites can be what is refused."""
    def ext(kind: int, body: bytes) -> bytes:
        return struct.pack(">HH", kind, len(body)) + body
    names = b"\x02h2"
    groups = struct.pack(">HHH", 4, 0x001D, 0x0017)  # x25519, secp256r1
    algorithms = struct.pack(">H", 8) + struct.pack(">HHHH", 0x0804, 0x0403, 0x0401, 0x0805)
    extensions = (ext(16, struct.pack(">H", len(names)) + names) + ext(10, groups)
                  + ext(11, b"\x01\x00") + ext(13, algorithms)
                  + ext(0, struct.pack(">HBH", 12, 0, 9) + b"localhost"))
    cipher_bytes = b"".join(struct.pack(">H", s) for s in suites)
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack(">H", len(cipher_bytes))
            + cipher_bytes + b"\x01\x00" + struct.pack(">H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


def first_record(server, hello: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(hello)
        sock.settimeout(5)
        return sock.recv(7)


def test_weak_suites_get_a_handshake_failure(tls_chatd):
    answers = {name: first_record(tls_chatd, tls12_hello([suite]))
               for name, suite in WEAK_SUITES.items()}
    wrong = {n: a.hex() for n, a in answers.items() if a[:1] != b"\x15" or a[5:7] != b"\x02\x28"}
    assert not wrong, wrong
    # The control: the same hello with the allowed suites gets a ServerHello.
    assert first_record(tls_chatd, tls12_hello([0xC02B, 0xC02F]))[:1] == b"\x16"


def test_protocol_versions_compression_and_alpn(tls_chatd, certs):
    for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        output = handshake(tls_chatd, certs, flag)
        assert f"Protocol  : {version}" in output or f"New, {version}" in output, output[-800:]
        assert "ALPN protocol: h2" in output
        assert "Compression: NONE" in output or version == "TLSv1.3"
        assert "Verify return code: 0 (ok)" in output
    for flag in ("-tls1", "-tls1_1"):
        output = handshake(tls_chatd, certs, flag, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert negotiated_cipher(output) is None, output[-600:]
    # h2 is chosen among other protocols; a client without h2 gets no connection.
    output = handshake(tls_chatd, certs, "-alpn", "http/1.1,h2,spdy/3")
    assert "ALPN protocol: h2" in output
    output = subprocess.run(
        ["openssl", "s_client", "-connect", tls_chatd.address, "-servername", "localhost",
         "-CAfile", str(certs.root.cert), "-alpn", "h2c,spdy/3,http/1.0"],
        capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    assert "no application protocol" in (output.stdout + output.stderr).decode()


def test_client_renegotiation_is_refused(tls_chatd, certs):
    """TLS 1.2 client-initiated renegotiation (s_client's `R` command): the server declines
    (no_renegotiation alert, then the connection ends) instead of a second handshake."""
    process = subprocess.Popen(
        ["openssl", "s_client", "-connect", tls_chatd.address, "-servername", "localhost",
         "-CAfile", str(certs.root.cert), "-alpn", "h2", "-tls1_2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)  # the first handshake
        process.stdin.write(b"R\n")
        process.stdin.flush()
        time.sleep(1.5)
        output = process.communicate(timeout=10)[0].decode(errors="replace")
    finally:
        process.kill()
    assert "RENEGOTIATING" in output, output[-1200:]
    # OpenSSL's client reports the server's no_renegotiation alert (100) this way.
    assert "no renegotiation" in output, output[-1200:]
    assert output.count("SSL handshake has read") == 1, output[-1200:]
    tls_chatd.assert_serving()
