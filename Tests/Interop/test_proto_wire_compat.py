"""Proto/'s copies of external protocols are wire-identical to the originals.

chatd is generated from Proto/, while the clients in this suite use the gRPC project's own
definitions (grpcio-health-checking, grpcio-reflection) and the protobuf runtime's
well-known types. A renumbered field would pass every round trip between chatd's own
encoder and decoder; this compares the descriptors instead. No server needed."""

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from chatd_interop.protos import STUBS_DIR


def ours() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Every file of Proto/ (with imports) as compiled at session start."""
    file_set = descriptor_pb2.FileDescriptorSet.FromString(Path(STUBS_DIR, "proto.pb").read_bytes())
    return {f.name: f for f in file_set.file}


def official(file_descriptor) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    file_descriptor.CopyToProto(proto)
    return proto


def shape(file: descriptor_pb2.FileDescriptorProto, rename: tuple[str, str] = ("", "")) -> dict:
    """What the wire depends on: numbers, types, labels, type names, enum values, methods."""

    def name(type_name: str) -> str:
        return type_name.replace(*rename) if rename[0] else type_name

    def message(m) -> dict:
        return {
            "fields": sorted(
                (f.number, f.name, f.type, f.label, name(f.type_name)) for f in m.field
            ),
            "nested": {n.name: message(n) for n in m.nested_type if not n.options.map_entry},
            "enums": {e.name: sorted((v.number, v.name) for v in e.value) for e in m.enum_type},
        }

    return {
        "package": name(file.package),
        "messages": {m.name: message(m) for m in file.message_type},
        "enums": {e.name: sorted((v.number, v.name) for v in e.value) for e in file.enum_type},
        "services": {
            s.name: sorted(
                (m.name, name(m.input_type), name(m.output_type), m.client_streaming,
                 m.server_streaming)
                for m in s.method
            )
            for s in file.service
        },
    }


def assert_wire_compatible(mine: dict, theirs: dict) -> None:
    """Every message, enum and method we define exists upstream, identical on the wire. (We
    may leave out upstream's newer additions, e.g. Health/List; we may invent nothing.)"""
    assert mine["package"] == theirs["package"]
    for kind in ("messages", "enums"):
        for name, definition in mine[kind].items():
            assert name in theirs[kind], f"{name} is not in the upstream definition"
            assert definition == theirs[kind][name], name
    for name, methods in mine["services"].items():
        assert name in theirs["services"], f"service {name} is not upstream"
        assert set(methods) <= set(theirs["services"][name]), name


def test_health_matches_grpcio_health_checking():
    mine = shape(ours()["grpc/health/v1/health.proto"])
    assert_wire_compatible(mine, shape(official(health_pb2.DESCRIPTOR)))
    assert {"Check", "Watch"} <= {m[0] for m in mine["services"]["Health"]}


def test_reflection_v1alpha_matches_grpcio_reflection():
    mine = shape(ours()["grpc/reflection/v1alpha/reflection.proto"])
    assert_wire_compatible(mine, shape(official(reflection_pb2.DESCRIPTOR)))
    assert mine["services"]  # ServerReflection is there


def test_reflection_v1_is_v1alpha_under_another_package():
    # The gRPC project's v1 is v1alpha renamed, field for field.
    mine = shape(ours()["grpc/reflection/v1/reflection.proto"])
    renamed = ("grpc.reflection.v1alpha", "grpc.reflection.v1")
    assert_wire_compatible(mine, shape(official(reflection_pb2.DESCRIPTOR), renamed))
    assert mine["services"]


def well_known_files() -> list[str]:
    return sorted(n for n in ours() if n.startswith("google/protobuf/"))


@pytest.mark.parametrize("file_name", well_known_files() or ["google/protobuf/timestamp.proto"])
def test_well_known_types_match_the_protobuf_runtime(file_name):
    runtime = descriptor_pool.Default().FindFileByName(file_name)
    assert_wire_compatible(shape(ours()[file_name]), shape(official(runtime)))


# grpc/grpc src/proto/grpc/testing/messages.proto and test.proto: the fields and methods the
# interop cases use, as (number, name, type, label, type name).
T = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = T.LABEL_OPTIONAL, T.LABEL_REPEATED
INT32, BOOL, BYTES, STRING = T.TYPE_INT32, T.TYPE_BOOL, T.TYPE_BYTES, T.TYPE_STRING
MSG, ENUM = T.TYPE_MESSAGE, T.TYPE_ENUM
BOOL_VALUE = ".grpc.testing.BoolValue"
PAYLOAD = ".grpc.testing.Payload"
ECHO = ".grpc.testing.EchoStatus"
TESTING_FIELDS = {
    "BoolValue": [(1, "value", BOOL, OPTIONAL, "")],
    "Payload": [(1, "type", ENUM, OPTIONAL, ".grpc.testing.PayloadType"),
                (2, "body", BYTES, OPTIONAL, "")],
    "EchoStatus": [(1, "code", INT32, OPTIONAL, ""), (2, "message", STRING, OPTIONAL, "")],
    "SimpleRequest": [
        (1, "response_type", ENUM, OPTIONAL, ".grpc.testing.PayloadType"),
        (2, "response_size", INT32, OPTIONAL, ""),
        (3, "payload", MSG, OPTIONAL, PAYLOAD),
        (4, "fill_username", BOOL, OPTIONAL, ""),
        (5, "fill_oauth_scope", BOOL, OPTIONAL, ""),
        (6, "response_compressed", MSG, OPTIONAL, BOOL_VALUE),
        (7, "response_status", MSG, OPTIONAL, ECHO),
        (8, "expect_compressed", MSG, OPTIONAL, BOOL_VALUE),
    ],
    "SimpleResponse": [(1, "payload", MSG, OPTIONAL, PAYLOAD),
                       (2, "username", STRING, OPTIONAL, ""),
                       (3, "oauth_scope", STRING, OPTIONAL, "")],
    "StreamingInputCallRequest": [(1, "payload", MSG, OPTIONAL, PAYLOAD),
                                  (2, "expect_compressed", MSG, OPTIONAL, BOOL_VALUE)],
    "StreamingInputCallResponse": [(1, "aggregated_payload_size", INT32, OPTIONAL, "")],
    "ResponseParameters": [
        (1, "size", INT32, OPTIONAL, ""),
        (2, "interval_us", INT32, OPTIONAL, ""),
        (3, "compressed", MSG, OPTIONAL, BOOL_VALUE),
    ],
    "StreamingOutputCallRequest": [
        (1, "response_type", ENUM, OPTIONAL, ".grpc.testing.PayloadType"),
        (2, "response_parameters", MSG, REPEATED, ".grpc.testing.ResponseParameters"),
        (3, "payload", MSG, OPTIONAL, PAYLOAD),
        (7, "response_status", MSG, OPTIONAL, ECHO),
    ],
    "StreamingOutputCallResponse": [(1, "payload", MSG, OPTIONAL, PAYLOAD)],
}
TEST_SERVICE_METHODS = [
    ("EmptyCall", ".grpc.testing.Empty", ".grpc.testing.Empty", False, False),
    ("UnaryCall", ".grpc.testing.SimpleRequest", ".grpc.testing.SimpleResponse", False, False),
    ("StreamingOutputCall", ".grpc.testing.StreamingOutputCallRequest",
     ".grpc.testing.StreamingOutputCallResponse", False, True),
    ("StreamingInputCall", ".grpc.testing.StreamingInputCallRequest",
     ".grpc.testing.StreamingInputCallResponse", True, False),
    ("FullDuplexCall", ".grpc.testing.StreamingOutputCallRequest",
     ".grpc.testing.StreamingOutputCallResponse", True, True),
]


def grpc_testing_shapes() -> dict:
    merged = {"messages": {}, "services": {}}
    for file in ours().values():
        if file.package == "grpc.testing":
            s = shape(file)
            merged["messages"].update(s["messages"])
            merged["services"].update(s["services"])
    return merged


def test_grpc_testing_messages_match_upstream():
    messages = grpc_testing_shapes()["messages"]
    for name, fields in TESTING_FIELDS.items():
        assert name in messages, f"grpc.testing.{name} is missing"
        assert set(fields) <= set(messages[name]["fields"]), name


def test_grpc_testing_service_matches_upstream():
    methods = set(grpc_testing_shapes()["services"]["TestService"])
    assert set(TEST_SERVICE_METHODS) <= methods
