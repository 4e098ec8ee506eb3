"""Per-user rate limits: over the limit answers RESOURCE_EXHAUSTED with google.rpc.RetryInfo;
other users and other RPC classes keep their own buckets."""

import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.users import User


def M(name, **fields):
    return protos.message(name)(**fields)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("limited-chatd"),
                          extra_args=("--rate-limit", "send=0.1/2"))
    server.start()
    with grpc.insecure_channel(server.address) as channel:
        yield channel
    server.stop()


def retry_delay(error: grpc.RpcError) -> float:
    Status, RetryInfo = protos.message("google.rpc.Status"), protos.message("google.rpc.RetryInfo")
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in Status.FromString(value).details:
                if detail.type_url.endswith("/google.rpc.RetryInfo"):
                    delay = RetryInfo.FromString(detail.value).retry_delay
                    return delay.seconds + delay.nanos / 1e9
    raise AssertionError("no RetryInfo in the error details")


def test_sending_over_the_limit(limited):
    alice, bob = User(limited, "Alice"), User(limited, "Bob")
    bob.me()
    room = alice.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=bob.id))
    send = lambda user: user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id,
                                                client_msg_id=uuid.uuid4().hex, body="hi"))
    send(alice)
    send(alice)
    with pytest.raises(grpc.RpcError) as info:
        send(alice)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert 0 < retry_delay(info.value) <= 10
    # Bob's bucket is his own, and reading is another class.
    send(bob)
    assert len(alice.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id))
               .messages) == 3
