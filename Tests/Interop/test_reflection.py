"""Server reflection, v1 and v1alpha: list, describe and a call built from reflection alone.

Everything a test learns about the chat API here comes from the server, never from local
stubs: the descriptor pools are fresh ones filled by reflection answers."""

import grpc
import pytest
from google.protobuf import descriptor, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from chatd_interop.reflection import VERSIONS, ReflectionClient, ReflectionError

EXPECTED_SERVICES = {
    "chat.v1.ChatService",
    "social.v1.FollowService",
    "social.v1.UserService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


@pytest.fixture(params=VERSIONS)
def reflection(request, channel) -> ReflectionClient:
    return ReflectionClient(channel, request.param)


def test_list_services(reflection):
    services = set(reflection.list_services())
    assert EXPECTED_SERVICES <= services
    # Served only because the test server runs with --enable-interop-testing.
    assert "grpc.testing.TestService" in services


def test_describe_chat_service(reflection):
    pool = reflection.pool_for("chat.v1.ChatService")
    service = pool.FindServiceByName("chat.v1.ChatService")
    methods = service.methods_by_name
    assert {"SendMessage", "GetMessages", "SubscribeRoom", "ListRooms"} <= set(methods)
    subscribe = methods["SubscribeRoom"]
    assert subscribe.server_streaming and not subscribe.client_streaming
    assert subscribe.output_type.full_name == "chat.v1.RoomEvent"
    assert methods["SendMessage"].output_type.full_name == "chat.v1.Message"


def test_describe_message(reflection):
    pool = reflection.pool_for("chat.v1.Message")
    message = pool.FindMessageTypeByName("chat.v1.Message")
    fields = message.fields_by_name
    assert {"id", "room_id", "seq", "sender_id", "body", "created_at"} <= set(fields)
    assert fields["seq"].type == descriptor.FieldDescriptor.TYPE_UINT64
    assert fields["created_at"].message_type.full_name == "google.protobuf.Timestamp"


def defining_file(files, service_name: str):
    """The answer may carry imports too, in any order: pick the file defining the service."""
    [found] = [f for f in files if any(s.name == service_name for s in f.service)]
    return found


def test_file_by_filename_round_trips(reflection):
    files = reflection.file_containing_symbol("social.v1.FollowService")
    file = defining_file(files, "FollowService")
    assert file.package == "social.v1"
    again = [f for f in reflection.file_by_filename(file.name) if f.name == file.name]
    assert again == [file]


def test_method_symbol_resolves_to_its_file(reflection):
    files = reflection.file_containing_symbol("chat.v1.ChatService.SendMessage")
    assert defining_file(files, "ChatService").package == "chat.v1"


@pytest.mark.parametrize(
    "request_fields",
    [
        {"file_containing_symbol": "no.such.Symbol"},
        {"file_by_filename": "no/such/file.proto"},
    ],
)
def test_unknown_symbol_or_file_is_not_found(reflection, request_fields):
    with pytest.raises(ReflectionError) as info:
        reflection.files_of(reflection.ask(**request_fields))
    assert info.value.code == NOT_FOUND


def test_several_requests_on_one_stream(reflection):
    answers = reflection.exchange(
        [
            reflection.request(list_services=""),
            reflection.request(file_containing_symbol="grpc.health.v1.Health"),
            reflection.request(file_containing_symbol="no.such.Symbol"),
            reflection.request(list_services=""),
        ]
    )
    assert [a.WhichOneof("message_response") for a in answers] == [
        "list_services_response",
        "file_descriptor_response",
        "error_response",
        "list_services_response",
    ]
    # Each answer echoes the request it answers.
    assert answers[1].original_request.file_containing_symbol == "grpc.health.v1.Health"


def test_call_by_reflection(reflection, channel):
    """Health/Check with request and response types built only from reflection answers."""
    pool = reflection.pool_for("grpc.health.v1.Health")
    method = pool.FindServiceByName("grpc.health.v1.Health").methods_by_name["Check"]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    reply = check(request_class(service=""), timeout=10)
    status = method.output_type.fields_by_name["status"].enum_type
    assert status.values_by_number[reply.status].name == "SERVING"


def test_grpcio_reflection_descriptor_database_v1alpha(channel):
    """grpcio-reflection's own client (v1alpha) resolves the whole API."""
    database = ProtoReflectionDescriptorDatabase(channel)
    assert EXPECTED_SERVICES <= set(database.get_services())
    from google.protobuf.descriptor_pool import DescriptorPool

    pool = DescriptorPool(database)
    follow = pool.FindServiceByName("social.v1.FollowService")
    assert follow.methods_by_name["Follow"].output_type.full_name == "social.v1.FollowResponse"
    user_event = pool.FindMessageTypeByName("chat.v1.UserEvent")
    assert "notification" in user_event.fields_by_name
