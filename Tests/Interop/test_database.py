"""chatd and its database: the embedded cluster when no URL is given, UNAVAILABLE (and no
crash) while the database is down, recovery when it is back."""

import shutil
import time

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.postgres import Cluster, traversable_folder
from chatd_interop.server import ChatdProcess, chatd_binary
from chatd_interop.tokens import bearer, mint, new_user_id


def get_me(address, user, timeout=15):
    with grpc.insecure_channel(address) as channel:
        call, request_class = protos.unary_method(channel, "social.v1.UserService", "GetMe")
        return call(request_class(), metadata=bearer(mint(user)), timeout=timeout)


def test_embedded_cluster_without_a_database_url():
    workdir = traversable_folder("chatd-embedded.")
    server = ChatdProcess(chatd_binary(), workdir, extra_env={
        "CHATD_DATABASE_URL": "", "CHATD_TEST_DATABASE_URL": ""})
    try:
        server.start(ready_timeout=60)
        user = new_user_id()
        assert get_me(server.address, user).id == user
        assert (workdir / "data" / "postgres" / "data" / "PG_VERSION").is_file()
        assert "embedded postgres started" in server.log_path.read_text()
        assert server.stop(grace=20) == 0, server.log_tail()
        assert "embedded postgres stopped" in server.log_path.read_text()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_database_down_answers_unavailable_then_recovers():
    cluster = Cluster("chatd-outage-pg.")
    workdir = traversable_folder("chatd-outage.")
    server = ChatdProcess(chatd_binary(), workdir, extra_env={
        "CHATD_DATABASE_URL": cluster.url})
    try:
        server.start()
        assert get_me(server.address, new_user_id())
        cluster.stop()
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as info:
            get_me(server.address, new_user_id(), timeout=40)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE, server.log_tail()
        # Bounded by the pool's acquire timeout (5 s), whatever the machine's load.
        assert time.monotonic() - started < 30
        assert "database" in info.value.details()
        server.assert_serving()
        cluster.start()
        user = new_user_id()
        for _ in range(50):
            try:
                assert get_me(server.address, user).id == user
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
        else:
            pytest.fail("chatd did not recover after the database came back")
    finally:
        server.stop()
        cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
