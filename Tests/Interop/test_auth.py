"""Identity: every chat RPC needs a valid `authorization: Bearer <JWT>`; health and
reflection do not. Tokens are minted with PyJWT."""

import time

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2

from chatd_interop import protos
from chatd_interop.server import TEST_JWT_SECRET
from chatd_interop.tokens import bearer, mint, new_user_id

GET_ME = ("social.v1.UserService", "GetMe")


def call_get_me(channel, metadata):
    call, request_class = protos.unary_method(channel, *GET_ME)
    return call(request_class(), metadata=metadata, timeout=10)


def unauthenticated(channel, metadata) -> str:
    with pytest.raises(grpc.RpcError) as info:
        call_get_me(channel, metadata)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, info.value.details()
    return info.value.details()


def test_valid_token_creates_the_user_from_its_claims(channel):
    user = new_user_id()
    token = mint(user, "Ada Lovelace", picture="https://example.org/ada.png")
    profile = call_get_me(channel, bearer(token))
    assert profile.id == user
    assert profile.display_name == "Ada Lovelace"
    assert profile.avatar_url == "https://example.org/ada.png"
    assert profile.created_at.seconds > 0


def test_changed_claims_refresh_the_user_row(channel):
    user = new_user_id()
    assert call_get_me(channel, bearer(mint(user, "Before"))).display_name == "Before"
    assert call_get_me(channel, bearer(mint(user, "After"))).display_name == "After"


def test_no_token(channel):
    assert "authorization" in unauthenticated(channel, ())


def test_not_a_bearer_token(channel):
    unauthenticated(channel, (("authorization", "Basic dXNlcjpwdw=="),))


def test_garbage_token(channel):
    assert "malformed" in unauthenticated(channel, bearer("not.a.jwt"))


def test_expired_token(channel):
    token = mint(new_user_id(), ttl=-3600)
    assert "expired" in unauthenticated(channel, bearer(token))


def test_token_within_leeway_is_accepted(channel):
    token = mint(new_user_id(), ttl=-5)
    call_get_me(channel, bearer(token))


def test_token_without_exp(channel):
    token = jwt.encode({"sub": new_user_id()}, TEST_JWT_SECRET, algorithm="HS256")
    assert "exp" in unauthenticated(channel, bearer(token))


def test_token_not_valid_yet(channel):
    token = mint(new_user_id(), nbf=int(time.time()) + 3600)
    assert "not valid yet" in unauthenticated(channel, bearer(token))


def test_wrong_secret(channel):
    token = mint(new_user_id(), secret="some-other-secret-of-32-bytes-long!")
    details = unauthenticated(channel, bearer(token))
    assert "signature" in details
    assert TEST_JWT_SECRET not in details


def test_alg_none_is_refused(channel):
    token = jwt.encode(
        {"sub": new_user_id(), "exp": int(time.time()) + 60}, None, algorithm="none")
    assert "algorithm" in unauthenticated(channel, bearer(token))


def test_hs384_is_not_on_the_allow_list(channel):
    token = mint(new_user_id(), algorithm="HS384")
    assert "algorithm" in unauthenticated(channel, bearer(token))


def test_missing_sub(channel):
    token = jwt.encode({"exp": int(time.time()) + 60}, TEST_JWT_SECRET, algorithm="HS256")
    assert "sub" in unauthenticated(channel, bearer(token))


def test_unknown_role(channel):
    assert "role" in unauthenticated(channel, bearer(mint(new_user_id(), role="root")))


def test_tampered_payload(channel):
    header, _, signature = mint(new_user_id()).split(".")
    other_payload = mint("admin-user", role="admin").split(".")[1]
    assert "signature" in unauthenticated(
        channel, bearer(f"{header}.{other_payload}.{signature}"))


def test_health_and_reflection_need_no_token(health, channel):
    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
