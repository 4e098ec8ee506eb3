"""The access log: one line per RPC with method, code, duration, user and peer."""

import re
import time

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User


def lines_for(chatd, needle: str) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [l for l in chatd.log_path.read_text().splitlines() if needle in l]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_each_rpc_is_logged_with_its_user(chatd, channel):
    user = User(channel, "Logged")
    user.me()
    lines = lines_for(chatd, f"user={user.id}")
    assert lines, chatd.log_tail()
    line = lines[0]
    assert "msg=rpc" in line and "method=/social.v1.UserService/GetMe" in line
    assert "code=OK" in line and "peer=ipv4:127.0.0.1:" in line
    assert re.search(r"duration_ms=[0-9.]+", line)


def test_refused_calls_are_logged_without_a_user(chatd, channel):
    call, request_class = protos.unary_method(channel, "social.v1.FollowService",
                                              "GetRelationship")
    with pytest.raises(grpc.RpcError):
        call(request_class(user_id="x"), timeout=10)
    lines = lines_for(chatd, "method=/social.v1.FollowService/GetRelationship")
    assert any("code=UNAUTHENTICATED" in l and "user=-" in l for l in lines), lines
