"""grpc.health.v1.Health with grpcio-health-checking's stubs (the gRPC project's own)."""

import grpc
import pytest
from grpc_health.v1 import health_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN

REGISTERED_SERVICES = [
    "",
    "chat.v1.ChatService",
    "social.v1.UserService",
    "social.v1.FollowService",
]


@pytest.mark.parametrize("service", REGISTERED_SERVICES)
def test_check_registered_service_is_serving(health, service):
    reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert reply.status == SERVING


def test_check_unknown_service_is_not_found(health):
    with pytest.raises(grpc.RpcError) as info:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("service", ["", "chat.v1.ChatService"])
def test_watch_streams_current_status(health, service):
    call = health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=10)
    try:
        first = next(call)
        assert first.status == SERVING
    finally:
        call.cancel()
    # The stream stays open until the client goes: it ended because we cancelled it.
    assert call.code() == grpc.StatusCode.CANCELLED


def test_watch_unknown_service_reports_service_unknown_and_stays_open(health):
    # health.proto: an unknown service gets SERVICE_UNKNOWN, and the call is not terminated.
    call = health.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    try:
        assert next(call).status == SERVICE_UNKNOWN
        assert call.is_active()
    finally:
        call.cancel()


def test_many_concurrent_checks_on_one_connection(health):
    futures = [
        health.Check.future(health_pb2.HealthCheckRequest(service=""), timeout=10)
        for _ in range(200)
    ]
    assert [f.result().status for f in futures] == [SERVING] * 200
