"""Connecting to chatd with a token, and following a room across disconnects."""

from __future__ import annotations

import collections
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import grpc

from chatd_client.chat.v1 import chat_service_pb2, chat_service_pb2_grpc, events_pb2
from chatd_client.google.rpc import status_pb2
from chatd_client.social.v1 import follow_service_pb2_grpc, user_service_pb2_grpc

# A token, or a function returning the current one (asked on every call, so a refreshed token
# is used without reconnecting).
TokenSource = str | Callable[[], str]


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` to every call that does not carry its own.

    An interceptor rather than call credentials: grpcio sends call credentials only over TLS,
    and a development chatd serves plaintext HTTP/2.
    """

    def __init__(self, token: TokenSource):
        self._token = token

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        if not any(key == "authorization" for key, _ in metadata):
            token = self._token() if callable(self._token) else self._token
            metadata.append(("authorization", f"Bearer {token}"))
        return _CallDetails(
            details.method, details.timeout, metadata, details.credentials,
            getattr(details, "wait_for_ready", None), getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)


@dataclass
class Client:
    """One channel to chatd and the stubs of its three services, all sending the token."""

    channel: grpc.Channel
    chat: chat_service_pb2_grpc.ChatServiceStub
    users: user_service_pb2_grpc.UserServiceStub
    follows: follow_service_pb2_grpc.FollowServiceStub

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(
    address: str,
    token: TokenSource,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    options: Iterable[tuple[str, object]] = (),
) -> Client:
    """Stubs on one HTTP/2 connection to `address` ("host:port"), every call authorized with
    `token`. Plaintext unless `credentials` (e.g. grpc.ssl_channel_credentials()) are given."""
    if credentials is None:
        channel = grpc.insecure_channel(address, options=list(options))
    else:
        channel = grpc.secure_channel(address, credentials, options=list(options))
    channel = grpc.intercept_channel(channel, _Bearer(token))
    return Client(
        channel=channel,
        chat=chat_service_pb2_grpc.ChatServiceStub(channel),
        users=user_service_pb2_grpc.UserServiceStub(channel),
        follows=follow_service_pb2_grpc.FollowServiceStub(channel),
    )


class RoomTail:
    """A room's events, as `SubscribeRoom` streams them, across disconnects.

    When the stream fails with a retryable status (UNAVAILABLE: a dropped connection, a
    restarting or draining chatd) or ends by itself, it subscribes again with
    `after_seq = last_seq` after a short backoff. chatd replays persisted events gaplessly
    after that seq, so the caller sees every persisted event (seq > 0) once, in order; each
    resubscription sends a new `synced`, and ephemeral events (seq 0: typing, heartbeats) sent
    while disconnected are lost. Other errors (NOT_FOUND for a stranger or a removed member,
    OUT_OF_RANGE, UNAUTHENTICATED) end the iteration by raising.
    """

    def __init__(
        self,
        stub: chat_service_pb2_grpc.ChatServiceStub,
        room_id: str,
        after_seq: int = 0,
        *,
        retry_codes: Iterable[grpc.StatusCode] = (grpc.StatusCode.UNAVAILABLE,),
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ):
        self.stub = stub
        self.room_id = room_id
        # The seq of the last persisted event handed out: where the next subscription resumes.
        self.last_seq = after_seq
        self.retry_codes = frozenset(retry_codes)
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self._lock = threading.Lock()
        self._call = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stops the iteration (from any thread): the current call is cancelled and the
        iterator ends instead of resubscribing."""
        self._cancelled.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def __iter__(self) -> Iterator[events_pb2.RoomEvent]:
        backoff = self.initial_backoff
        while not self._cancelled.is_set():
            request = chat_service_pb2.SubscribeRoomRequest(
                room_id=self.room_id, after_seq=self.last_seq)
            with self._lock:
                if self._cancelled.is_set():
                    return
                # wait_for_ready: while chatd is down, wait for it rather than fail at once.
                call = self.stub.SubscribeRoom(request, wait_for_ready=True)
                self._call = call
            try:
                for event in call:
                    backoff = self.initial_backoff
                    if event.seq:
                        if event.seq <= self.last_seq:
                            continue  # not expected from chatd; never hand out an event twice
                        self.last_seq = event.seq
                    yield event
            except grpc.RpcError as error:
                if self._cancelled.is_set():
                    return
                if error.code() not in self.retry_codes:
                    raise
            finally:
                call.cancel()  # the consumer stopped early: end the RPC now, not at collection
            # Jitter spreads the resubscriptions of many clients after a restart.
            if self._cancelled.wait(backoff * random.uniform(0.5, 1.0)):
                return
            backoff = min(backoff * 2, self.max_backoff)


def tail_room(
    stub: chat_service_pb2_grpc.ChatServiceStub, room_id: str, after_seq: int = 0, **options
) -> RoomTail:
    """Follows a room from `after_seq` (0: from its first event; Room.last_seq: new events
    only), resuming after disconnects. Iterate it; `cancel()` stops it from another thread,
    `last_seq` is where a later tail should resume. See RoomTail for the guarantees."""
    return RoomTail(stub, room_id, after_seq, **options)


def rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status chatd attaches to errors (grpc-status-details-bin): details such
    as google.rpc.BadRequest or RetryInfo, unpacked with chatd_client.google.rpc.error_details_pb2."""
    for key, value in getattr(error, "trailing_metadata", lambda: None)() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return None
