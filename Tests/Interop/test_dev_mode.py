"""Development mode: with no key configured chatd keeps a random secret in its data dir, logs
how to mint a token, and `chatd token` mints tokens that it accepts."""

import subprocess

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer, mint


@pytest.fixture(scope="module")
def dev_chatd(tmp_path_factory):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("dev-chatd"),
                          extra_env={"CHATD_JWT_SECRET": ""})
    server.start()
    yield server
    server.stop()


def get_me(address, token):
    with grpc.insecure_channel(address) as channel:
        call, request_class = protos.unary_method(channel, "social.v1.UserService", "GetMe")
        return call(request_class(), metadata=bearer(token), timeout=10)


def test_secret_is_created_and_logged(dev_chatd):
    secret_file = dev_chatd.workdir / "data" / "jwt-secret"
    assert secret_file.is_file()
    assert secret_file.stat().st_mode & 0o077 == 0
    assert len(secret_file.read_text().strip()) == 64
    log = dev_chatd.log_path.read_text()
    assert "chatd token --data-dir" in log
    assert secret_file.read_text().strip() not in log


def test_chatd_token_mints_an_accepted_token(dev_chatd):
    token = subprocess.run(
        [str(chatd_binary()), "token", "--data-dir", str(dev_chatd.workdir / "data"),
         "--user", "dev-user", "--name", "Dev User"],
        check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    ).stdout.strip()
    profile = get_me(dev_chatd.address, token)
    assert (profile.id, profile.display_name) == ("dev-user", "Dev User")


def test_tokens_signed_otherwise_are_refused(dev_chatd):
    with pytest.raises(grpc.RpcError) as info:
        get_me(dev_chatd.address, mint("dev-user"))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
