"""Secrets never reach the logs, and no value forges a log line: one chatd at trace level
(the most it ever writes) with TLS and client certificates, an HS256 secret of its own and
push to a fake OneSignal, driven through every RPC, every kind of token failure, client
certificates and pushes whose answers (third-party text, logged) try to forge lines. Then its
whole output is searched. The session-wide check in conftest.py does the same search over
every other chatd of the run."""

from __future__ import annotations

import secrets
import time
import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.onesignal import Answer, FakeOneSignal
from chatd_interop.pki import PKI
from chatd_interop.secrets import leaks, secrets_of
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer, mint, new_user_id
from chatd_interop.users import User

SERVICES = ("chat.v1.ChatService", "social.v1.UserService", "social.v1.FollowService")
JWT_SECRET = "log-test-" + secrets.token_urlsafe(32)
API_KEY = "os_v2_app_" + secrets.token_urlsafe(24)
FORGED = "level=error msg=forged"


def M(name, **fields):
    return protos.message(name)(**fields)


@pytest.fixture(scope="module")
def fake():
    with FakeOneSignal() as server:
        yield server


@pytest.fixture(scope="module")
def setup(tmp_path_factory, fake):
    pki = PKI(tmp_path_factory.mktemp("log-pki"))
    root = pki.root("root", "log test root")
    server_cert = pki.server("chatd", root)
    clients_ca = pki.root("clients", "log test clients")
    client = pki.client("indexer", clients_ca, common_name="indexer-service")
    credentials = grpc.ssl_channel_credentials(root_certificates=root.cert.read_bytes())
    chatd = ChatdProcess(
        chatd_binary(), tmp_path_factory.mktemp("chatd-logs"),
        extra_args=("--log-level", "trace", "--tls-cert", str(server_cert.cert),
                    "--tls-key", str(server_cert.key), "--tls-client-ca", str(clients_ca.cert),
                    "--onesignal-app-id", "5eb5a37e-b458-11e3-ac11-000c2940e62c",
                    "--onesignal-api-key", API_KEY, "--onesignal-api-url", fake.url,
                    "--onesignal-grace-period", "0.2", "--onesignal-retry-delay", "0.1",
                    "--onesignal-timeout", "1", "--onesignal-max-attempts", "2",
                    "--rate-limit", "off"),
        extra_env={"CHATD_JWT_SECRET": JWT_SECRET},
        credentials=credentials)
    chatd.start()
    client_credentials = grpc.ssl_channel_credentials(
        root_certificates=root.cert.read_bytes(), private_key=client.key.read_bytes(),
        certificate_chain=client.cert.read_bytes())
    yield dict(chatd=chatd, credentials=credentials, client_credentials=client_credentials,
               key_files=[server_cert.key, client.key, root.key, clients_ca.key])
    chatd.stop()


def user(channel, name, **claims):
    """A User whose token is signed with this server's secret."""
    person = User(channel, name)
    person.token = mint(person.id, name, secret=JWT_SECRET, **claims)
    for stub in (person.users, person.follows, person.chat):
        stub._metadata = bearer(person.token)
    return person


def call_everything(channel, token):
    """Every RPC once with an empty request (mostly INVALID_ARGUMENT: still logged)."""
    for service in SERVICES:
        for method in protos.service(service).methods:
            request = protos.message(method.input_type.full_name)
            response = protos.message(method.output_type.full_name)
            kind = channel.unary_stream if method.server_streaming else channel.unary_unary
            try:
                result = kind(f"/{service}/{method.name}",
                              request_serializer=request.SerializeToString,
                              response_deserializer=response.FromString)(
                    request(), metadata=bearer(token), timeout=3)
                if method.server_streaming:
                    next(result)
                    result.cancel()
            except grpc.RpcError:
                pass


def test_a_full_session_leaks_no_secret_and_forges_no_line(setup, fake):
    chatd = setup["chatd"]
    with chatd.open_channel() as channel:
        ana, ben = user(channel, "Ana"), user(channel, "Ben")
        ana.me(), ben.me()
        room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
        # Pushes to Ben (offline): OneSignal's answers carry text chatd logs.
        # Raw bytes, not JSON (whose strings cannot hold a raw CR or LF).
        fake.answer(ben.id, Answer(status=400, body=f"x\r{FORGED}\u2028{FORGED}".encode()))
        ana.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                               client_msg_id=uuid.uuid4().hex, body=f"hello\n{FORGED}"))
        fake.wait_for(ben.id, timeout=10)
        fake.answer(ben.id, Answer(status=503, body=f"\n{FORGED}\x1b[2J\x85".encode()),
                    Answer(status=200, body={"id": str(uuid.uuid4()),
                                             "errors": {"invalid": [f"z\r\n{FORGED}"]}}))
        ana.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                               client_msg_id=uuid.uuid4().hex, body="second"))
        fake.wait_for(ben.id, 3, timeout=10)
        # Every RPC, as a user and as a service.
        call_everything(channel, ana.token)
        call_everything(channel, mint("svc", role="service", secret=JWT_SECRET))
        # Every kind of token failure (the tokens must not be logged either).
        for token in (mint(new_user_id(), secret="x" * 40), mint(new_user_id(), ttl=-3600,
                                                                  secret=JWT_SECRET),
                      mint(new_user_id(), nbf=int(time.time()) + 3600, secret=JWT_SECRET),
                      mint(new_user_id()), "garbage", f"{ana.token}x"):
            call_everything(channel, token)
    with chatd.open_channel(setup["client_credentials"]) as channel:
        call_everything(channel, "")  # an empty bearer header: a certificate does not rescue it
        protos.stub(channel, "social.v1.UserService").GetMe(M("social.v1.GetMeRequest"),
                                                             timeout=10)
    time.sleep(1.0)  # the push worker's last lines
    chatd.assert_serving()

    text = chatd.log_path.read_text(encoding="utf-8", errors="replace")
    assert "push" in text and "msg=rpc" in text and "TLS handshake completed" in text
    assert "given up" in text or "retried" in text  # the forging answers were logged
    given = secrets_of(tuple(chatd.extra_args), chatd.env, chatd.workdir)
    assert JWT_SECRET in given and API_KEY in given  # the check knows what to look for
    secret_list = given + [ana.token, ben.token]
    for key_file in setup["key_files"]:
        secret_list += [line for line in key_file.read_text().splitlines()
                        if line and not line.startswith("-----")]
    assert not leaks(text, secret_list)
    lines = text.splitlines()  # CR, LF, U+2028 and the other separators
    assert not [line for line in lines if not line.startswith("ts=")], \
        [line for line in lines if not line.startswith("ts=")][:5]
    assert "\x1b" not in text
