"""Prometheus metrics: RPCs by method and code, latency histograms, gauges, scraped from the
HTTP/1.1 /metrics endpoint with a real HTTP client (urllib, http.client)."""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatd_interop import protos
from chatd_interop.raw_grpc import RawConnection, frame
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer, mint, new_user_id

GET_ME = "social.v1.UserService/GetMe"
CHECK = "grpc.health.v1.Health/Check"
FULL_DUPLEX = "grpc.testing.TestService/FullDuplexCall"

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset], float]


@pytest.fixture(scope="module")
def metered(tmp_path_factory):
    """A chatd of its own, so counters move only with this module's calls."""
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("metrics-chatd"), metrics=True)
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    # SIGTERM stops the endpoint too, scrape connections kept alive or not.
    assert server.stop() == 0, server.log_tail()


@pytest.fixture(scope="module")
def metered_channel(metered):
    with grpc.insecure_channel(metered.address) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        yield channel


def scrape(server: ChatdProcess) -> tuple[Samples, str]:
    """Every sample of one scrape, keyed by name and labels, and the Content-Type."""
    with urllib.request.urlopen(f"http://{server.metrics_address}/metrics", timeout=10) as reply:
        assert reply.status == 200
        content_type = reply.headers["Content-Type"]
        text = reply.read().decode("utf-8")
    samples: Samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples, content_type


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def rpcs(samples: Samples, method: str, code: str) -> float:
    return sample(samples, "chatd_rpcs_total", method=method, code=code)


def buckets(samples: Samples, method: str) -> list[tuple[float, float]]:
    """(le, cumulative count) of a method's latency histogram, by bound."""
    found = []
    for (name, labels), value in samples.items():
        label = dict(labels)
        if name == "chatd_rpc_duration_seconds_bucket" and label.get("method") == method:
            found.append((float(label["le"]), value))  # float("+Inf") is inf
    return sorted(found)


def test_counters_move_by_method_and_code(metered, metered_channel):
    before, _ = scrape(metered)

    get_me = protos.stub(metered_channel, "social.v1.UserService").GetMe
    request = protos.message("social.v1.GetMeRequest")()
    token = mint(new_user_id("metrics"))
    for _ in range(2):
        get_me(request, metadata=bearer(token), timeout=10)
    with pytest.raises(grpc.RpcError) as info:
        get_me(request, timeout=10)  # no token
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    health = health_pb2_grpc.HealthStub(metered_channel)
    for _ in range(3):
        health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    # The transport ends this call itself (DEADLINE_EXCEEDED): counted with that code too.
    with RawConnection(metered.address) as raw:
        stream = raw.start(f"/{FULL_DUPLEX}", [("grpc-timeout", "100m")])
        raw.send(stream, frame(b""))  # no half-close: the call runs until its deadline
        assert raw.wait(stream, timeout=5).grpc_status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]

    after, _ = scrape(metered)

    def moved(method: str, code: str) -> float:
        return rpcs(after, method, code) - rpcs(before, method, code)

    assert moved(GET_ME, "OK") == 2
    assert moved(GET_ME, "UNAUTHENTICATED") == 1
    assert moved(CHECK, "OK") == 3
    assert moved(FULL_DUPLEX, "DEADLINE_EXCEEDED") == 1
    assert moved(CHECK, "UNAUTHENTICATED") == 0

    get_me_buckets = buckets(after, GET_ME)
    assert len(get_me_buckets) > 5
    counts = [count for _, count in get_me_buckets]
    assert counts == sorted(counts), "histogram buckets are cumulative"
    assert get_me_buckets[-1][0] == float("inf")
    count = sample(after, "chatd_rpc_duration_seconds_count", method=GET_ME)
    assert count - sample(before, "chatd_rpc_duration_seconds_count", method=GET_ME) == 3
    assert get_me_buckets[-1][1] == count
    assert sample(after, "chatd_rpc_duration_seconds_sum", method=GET_ME) > 0
    assert sample(after, "chatd_rpc_duration_seconds_count", method=FULL_DUPLEX) >= 1

    # Nothing runs between the calls above and the scrape.
    assert sample(after, "chatd_rpcs_in_flight", method=GET_ME) == 0
    assert sample(after, "chatd_rpcs_in_flight", method=FULL_DUPLEX) == 0


def test_gauges_show_connections_and_the_pool(metered, metered_channel):
    health_pb2_grpc.HealthStub(metered_channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=10)
    token = mint(new_user_id("metrics"))
    protos.stub(metered_channel, "social.v1.UserService").GetMe(
        protos.message("social.v1.GetMeRequest")(), metadata=bearer(token), timeout=10)
    samples, _ = scrape(metered)
    assert sample(samples, "chatd_http2_connections") >= 1
    assert ("chatd_http2_streams", frozenset()) in samples
    assert sample(samples, "chatd_db_pool_connections_max") >= 1
    open_connections = sample(samples, "chatd_db_pool_connections_open")
    assert open_connections >= 1
    # (The pool's idle check may hold one at any moment: no exact figure.)
    assert sample(samples, "chatd_db_pool_connections_in_use") <= open_connections
    assert sample(samples, "chatd_db_pool_waiters") == 0


def test_content_type_and_keep_alive(metered):
    host, port = metered.metrics_address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(2):  # the same connection serves both
            connection.request("GET", "/metrics")
            reply = connection.getresponse()
            body = reply.read()
            assert reply.status == 200
            assert reply.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
            assert b"# TYPE chatd_rpcs_total counter" in body
            assert b"# TYPE chatd_rpc_duration_seconds histogram" in body
        connection.request("HEAD", "/metrics")
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200
    finally:
        connection.close()


def test_other_paths_and_methods(metered):
    base = f"http://{metered.metrics_address}"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{base}/other", timeout=10)
    assert info.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(f"{base}/metrics", data=b"x"), timeout=10)
    assert info.value.code == 405
    assert info.value.headers["Allow"] == "GET, HEAD"
    # A query string is still /metrics.
    with urllib.request.urlopen(f"{base}/metrics?name[]=x", timeout=10) as reply:
        assert reply.status == 200


def test_metrics_listen_off_serves_nothing(chatd):
    """The suite's shared chatd runs with --metrics-listen off: no metrics line in its log."""
    assert "metrics listening" not in chatd.log_path.read_text(errors="replace")


def test_the_subscription_gauge_returns_when_streams_end(metered, metered_channel):
    from chatd_interop.streams import Tail
    from chatd_interop.users import User

    def active(kind):
        return sample(scrape(metered)[0], "chatd_active_subscriptions", kind=kind)

    ana, ben = User(metered_channel, "Ana"), User(metered_channel, "Ben")
    ana.me(), ben.me()
    room = ana.chat.StartChat(protos.message("chat.v1.StartChatRequest")(peer_user_id=ben.id))
    before_room, before_user = active("room"), active("user")
    tails = [Tail(u.chat.SubscribeRoom(protos.message("chat.v1.SubscribeRoomRequest")(
        room_id=room.id), timeout=60)) for u in (ana, ben, ben)]
    user_tail = Tail(ben.chat.SubscribeUser(protos.message("chat.v1.SubscribeUserRequest")(),
                                            timeout=60))
    for tail in (*tails, user_tail):
        tail.until(lambda e: e.HasField("synced"))
    assert active("room") == before_room + 3 and active("user") == before_user + 1
    for tail in (*tails, user_tail):
        tail.cancel()
    deadline = time.monotonic() + 5
    while (active("room"), active("user")) != (before_room, before_user):
        assert time.monotonic() < deadline, "the gauge did not come back after cancellation"
        time.sleep(0.05)
