"""Bad tokens over every RPC (streams included): each is UNAUTHENTICATED, before any
validation or store access, with a message that names the failed check and never echoes the
token or key material. Then what needs its own server: issuer and audience, an RSA key
(algorithm confusion), and the documented 30 s clock-skew leeway."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import TEST_JWT_SECRET, ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer, mint, new_user_id

SERVICES = ("chat.v1.ChatService", "social.v1.UserService", "social.v1.FollowService")
OK = grpc.StatusCode.OK
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_jwt(header: dict, claims: dict, sign) -> str:
    """A JWT assembled by hand, so headers and signatures PyJWT refuses to make can be sent."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def hs256(secret: bytes):
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def claims(**extra) -> dict:
    return {"sub": new_user_id(), "exp": int(time.time()) + 600, **extra}


def every_method():
    return [(s, m) for s in SERVICES for m in protos.service(s).methods]


def outcome(channel, service, method, metadata) -> tuple[grpc.StatusCode, str]:
    """The status of `method` called with an empty request (authentication comes first)."""
    request_class = protos.message(method.input_type.full_name)
    response_class = protos.message(method.output_type.full_name)
    path = f"/{service}/{method.name}"
    kind = channel.unary_stream if method.server_streaming else channel.unary_unary
    call = kind(path, request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString)
    try:
        result = call(request_class(), metadata=metadata, timeout=10)
        if method.server_streaming:
            try:
                next(result)
            finally:
                result.cancel()
        return OK, ""
    except grpc.RpcError as error:
        return error.code(), error.details() or ""


def bad_tokens() -> dict[str, tuple[tuple, str]]:
    """label -> (metadata, a word the message must hold)."""
    good = mint(new_user_id())
    header, payload, signature = good.split(".")
    return {
        "no header": ((), "authorization"),
        "alg none": (bearer(raw_jwt({"alg": "none", "typ": "JWT"}, claims(),
                                    lambda _: b"")), "algorithm"),
        "alg none, no signature": (
            bearer(f"{b64(json.dumps({'alg': 'none'}).encode())}."
                   f"{b64(json.dumps(claims()).encode())}."), "algorithm"),
        "alg NONE": (bearer(raw_jwt({"alg": "NONE"}, claims(), lambda _: b"")), "algorithm"),
        "wrong key": (bearer(mint(new_user_id(), secret="x" * 40)), "signature"),
        "RS256 header, HMAC signature": (
            bearer(raw_jwt({"alg": "RS256", "typ": "JWT"}, claims(),
                           hs256(TEST_JWT_SECRET.encode()))), "algorithm"),
        "HS512": (bearer(mint(new_user_id(), algorithm="HS512", secret=TEST_JWT_SECRET * 2)),
                  "algorithm"),
        "expired": (bearer(mint(new_user_id(), ttl=-3600)), "expired"),
        "not yet valid": (bearer(mint(new_user_id(), nbf=int(time.time()) + 3600)),
                          "not valid yet"),
        "no exp": (bearer(raw_jwt({"alg": "HS256"}, {"sub": new_user_id()},
                                  hs256(TEST_JWT_SECRET.encode()))), "exp"),
        "missing sub": (bearer(raw_jwt({"alg": "HS256"}, {"exp": int(time.time()) + 60},
                                       hs256(TEST_JWT_SECRET.encode()))), "sub"),
        "sub with whitespace": (bearer(mint("two words")), "sub"),
        "garbage": (bearer("garbage"), "malformed"),
        "three garbage parts": (bearer("a.b.c"), "malformed"),
        "signature stripped": (bearer(f"{header}.{payload}."), "signature"),
        # ("Bearer " with its trailing space is malformed HTTP/2: nghttp2 resets the stream.)
        "empty bearer": ((("authorization", "Bearer"),), "Bearer"),
        "no scheme": ((("authorization", good),), "Bearer"),
        "Basic scheme": ((("authorization", f"Basic {good}"),), "Bearer"),
        "two headers, good first": (bearer(good) + bearer("garbage"), "more than one"),
        "two headers, bad first": (bearer("garbage") + bearer(good), "more than one"),
        "two good headers": (bearer(good) + bearer(good), "more than one"),
    }


def secret_parts(metadata) -> list[str]:
    """What must never come back: each token, its signature, the suite's secret."""
    parts = [TEST_JWT_SECRET]
    for _, value in metadata:
        token = value.split(" ", 1)[-1]
        signature = token.rsplit(".", 1)[-1]
        parts += [p for p in (token, signature) if len(p) > 8]
    return parts


def test_every_rpc_refuses_every_bad_token(channel):
    wrong = []
    for label, (metadata, word) in bad_tokens().items():
        for service, method in every_method():
            code, details = outcome(channel, service, method, metadata)
            where = f"{method.name} with {label}"
            if code != UNAUTHENTICATED:
                wrong.append(f"{where}: {code.name} {details}")
            elif word.lower() not in details.lower():
                wrong.append(f"{where}: message {details!r} does not say {word!r}")
            elif any(part in details for part in secret_parts(metadata)):
                wrong.append(f"{where}: message {details!r} echoes the token or key")
    assert not wrong, "\n".join(wrong)


def test_the_bearer_scheme_is_case_insensitive(channel):
    """RFC 7235 §2.1: the scheme name is case-insensitive, so `bearer` works as `Bearer`."""
    user = new_user_id()
    for scheme in ("bearer", "BEARER", "Bearer"):
        code, details = outcome(channel, "social.v1.UserService",
                                protos.service("social.v1.UserService").methods_by_name["GetMe"],
                                (("authorization", f"{scheme} {mint(user)}"),))
        assert code == OK, (scheme, details)


@pytest.mark.parametrize("offset, accepted", [(-20, True), (-45, False)],
                         ids=["expired-20s", "expired-45s"])
def test_exp_leeway_is_30_seconds(channel, offset, accepted):
    token = raw_jwt({"alg": "HS256"}, {"sub": new_user_id(), "exp": int(time.time()) + offset},
                    hs256(TEST_JWT_SECRET.encode()))
    code, details = outcome(channel, "social.v1.UserService",
                            protos.service("social.v1.UserService").methods_by_name["GetMe"],
                            bearer(token))
    assert (code == OK) == accepted, details


@pytest.mark.parametrize("offset, accepted", [(20, True), (45, False)],
                         ids=["nbf+20s", "nbf+45s"])
def test_nbf_leeway_is_30_seconds(channel, offset, accepted):
    token = mint(new_user_id(), nbf=int(time.time()) + offset)
    code, details = outcome(channel, "social.v1.UserService",
                            protos.service("social.v1.UserService").methods_by_name["GetMe"],
                            bearer(token))
    assert (code == OK) == accepted, details


# --- a server with an issuer, an audience and an RSA key ------------------------------------

ISSUER = "https://issuer.chatd.test"
AUDIENCE = "chatd-api"


class RSAKey:
    def __init__(self, folder: Path, name: str):
        self.private = folder / f"{name}.key"
        self.public = folder / f"{name}.pub.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(self.private)],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", str(self.private), "-pubout", "-out",
                        str(self.public)], check=True, capture_output=True)

    def sign(self, data: bytes) -> bytes:
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.private)],
                              input=data, check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jwt-keys")
    return RSAKey(folder, "trusted"), RSAKey(folder, "other")


@pytest.fixture(scope="module")
def strict(tmp_path_factory, keys):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd-iss-aud"),
                          extra_args=("--jwt-public-key", str(keys[0].public),
                                      "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE),
                          extra_env={"CHATD_JWT_SECRET": ""})  # the RSA key only
    server.start()
    with server.open_channel() as channel:
        yield channel
    server.stop()


def rs256(key: RSAKey, **extra) -> str:
    return raw_jwt({"alg": "RS256", "typ": "JWT"},
                   claims(iss=ISSUER, aud=[AUDIENCE, "other-api"], **extra), key.sign)


def test_issuer_audience_and_algorithm_confusion(strict, keys):
    trusted, other = keys
    get_me = protos.service("social.v1.UserService").methods_by_name["GetMe"]
    accepted = rs256(trusted)
    assert outcome(strict, "social.v1.UserService", get_me, bearer(accepted)) == (OK, "")
    public_pem = trusted.public.read_bytes()
    cases = {
        "wrong issuer": (raw_jwt({"alg": "RS256"}, claims(iss="https://evil.test",
                                                          aud=AUDIENCE), trusted.sign),
                         "issuer"),
        "no issuer": (raw_jwt({"alg": "RS256"}, claims(aud=AUDIENCE), trusted.sign), "issuer"),
        "wrong audience": (raw_jwt({"alg": "RS256"}, claims(iss=ISSUER, aud="other-api"),
                                   trusted.sign), "audience"),
        "no audience": (raw_jwt({"alg": "RS256"}, claims(iss=ISSUER), trusted.sign),
                        "audience"),
        "another RSA key": (rs256(other), "signature"),
        # The classic confusion: HS256 "signed" with the server's RSA public key as the
        # HMAC secret. The RSA key accepts RS256 only, so the header alone refuses it.
        "HS256 with the public key as secret": (
            raw_jwt({"alg": "HS256"}, claims(iss=ISSUER, aud=AUDIENCE), hs256(public_pem)),
            "algorithm"),
        "HS256 with the suite's secret": (
            raw_jwt({"alg": "HS256"}, claims(iss=ISSUER, aud=AUDIENCE),
                    hs256(TEST_JWT_SECRET.encode())), "algorithm"),
        "alg none": (raw_jwt({"alg": "none"}, claims(iss=ISSUER, aud=AUDIENCE),
                             lambda _: b""), "algorithm"),
        "PS256 header": (raw_jwt({"alg": "PS256"}, claims(iss=ISSUER, aud=AUDIENCE),
                                 trusted.sign), "algorithm"),
    }
    wrong = []
    for label, (token, word) in cases.items():
        for service, method in every_method():
            code, details = outcome(strict, service, method, bearer(token))
            if code != UNAUTHENTICATED or word not in details:
                wrong.append(f"{method.name} with {label}: {code.name} {details!r}")
            elif any(part in details for part in secret_parts(bearer(token))):
                wrong.append(f"{method.name} with {label}: the message echoes the token")
    assert not wrong, "\n".join(wrong)
