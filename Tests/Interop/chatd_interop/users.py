"""A test user: an id, a token and typed stubs whose calls carry the token."""

from __future__ import annotations

import grpc

from chatd_interop import protos
from chatd_interop.tokens import bearer, mint, new_user_id


class AuthedStub:
    """Wraps a grpcio stub so that every call sends `authorization: Bearer <token>`."""

    def __init__(self, stub, token: str):
        self._stub = stub
        self._metadata = bearer(token)

    def __getattr__(self, name):
        method = getattr(self._stub, name)

        def call(request, **kwargs):
            kwargs.setdefault("timeout", 10)
            return method(request, metadata=self._metadata, **kwargs)

        return call


class User:
    def __init__(self, channel: grpc.Channel, name: str = "", role: str | None = None,
                 user_id: str | None = None, picture: str | None = None):
        self.id = user_id or new_user_id()
        self.name = name or f"Name {self.id}"
        self.token = mint(self.id, self.name, role=role, picture=picture)
        self.users = AuthedStub(protos.stub(channel, "social.v1.UserService"), self.token)
        self.follows = AuthedStub(protos.stub(channel, "social.v1.FollowService"), self.token)
        self.chat = AuthedStub(protos.stub(channel, "chat.v1.ChatService"), self.token)

    def me(self):
        return self.users.GetMe(protos.message("social.v1.GetMeRequest")())


def violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The google.rpc.BadRequest field violations of an error's grpc-status-details-bin."""
    Status = protos.message("google.rpc.Status")
    BadRequest = protos.message("google.rpc.BadRequest")
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = Status.FromString(value)
            assert status.code == error.code().value[0]
            for detail in status.details:
                if detail.type_url.endswith("/google.rpc.BadRequest"):
                    bad = BadRequest.FromString(detail.value)
                    return [(v.field, v.description) for v in bad.field_violations]
    return []
