"""A server-reflection client for both protocol versions, built on generated stubs.

v1alpha uses grpcio-reflection's own stubs (the gRPC project's definitions); v1 uses stubs
generated from Proto/grpc/reflection/v1 (grpcio-reflection ships v1alpha only). Requests go
one at a time over one open bidi stream, the way grpcurl talks to a server.
"""

from __future__ import annotations

import importlib
import queue

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

VERSIONS = ("v1", "v1alpha")


def _modules(version: str):
    if version == "v1alpha":
        package = "grpc_reflection.v1alpha"
    elif version == "v1":
        package = "grpc.reflection.v1"
    else:
        raise ValueError(version)
    return (
        importlib.import_module(f"{package}.reflection_pb2"),
        importlib.import_module(f"{package}.reflection_pb2_grpc"),
    )


class ReflectionError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"reflection error {code}: {message}")
        self.code = code


class ReflectionClient:
    def __init__(self, channel: grpc.Channel, version: str, timeout: float = 10.0):
        self.version = version
        self.pb, grpc_module = _modules(version)
        self.stub = grpc_module.ServerReflectionStub(channel)
        self.timeout = timeout

    def request(self, **fields):
        return self.pb.ServerReflectionRequest(**fields)

    def exchange(self, requests: list) -> list:
        """Sends each request and reads its answer before sending the next, then half-closes
        and checks that the stream ends cleanly with no further answers."""
        outbox: queue.Queue = queue.Queue()

        def produce():
            while (item := outbox.get()) is not None:
                yield item

        call = self.stub.ServerReflectionInfo(produce(), timeout=self.timeout)
        answers = []
        try:
            for req in requests:
                outbox.put(req)
                answers.append(next(call))
        finally:
            outbox.put(None)
        leftovers = list(call)
        if leftovers:
            raise AssertionError(f"unexpected extra reflection answers: {leftovers}")
        return answers

    def ask(self, **fields):
        return self.exchange([self.request(**fields)])[0]

    def list_services(self) -> list[str]:
        answer = self.ask(list_services="")
        self._raise_if_error(answer)
        return [s.name for s in answer.list_services_response.service]

    def file_containing_symbol(self, symbol: str) -> list[descriptor_pb2.FileDescriptorProto]:
        return self.files_of(self.ask(file_containing_symbol=symbol))

    def file_by_filename(self, name: str) -> list[descriptor_pb2.FileDescriptorProto]:
        return self.files_of(self.ask(file_by_filename=name))

    def pool_for(self, symbol: str) -> descriptor_pool.DescriptorPool:
        """A fresh pool holding the file that defines `symbol` and every file it imports, all
        learned from the server: what grpcurl builds before `describe` or a call."""
        files = {f.name: f for f in self.file_containing_symbol(symbol)}
        missing = self._missing_dependencies(files)
        while missing:
            for name in missing:
                for f in self.file_by_filename(name):
                    files.setdefault(f.name, f)
            missing = self._missing_dependencies(files)
        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()
        while len(added) < len(files):
            progress = False
            for name, f in files.items():
                if name not in added and all(d in added for d in f.dependency):
                    pool.Add(f)
                    added.add(name)
                    progress = True
            if not progress:
                raise AssertionError(f"circular or unresolved imports among {sorted(files)}")
        return pool

    @staticmethod
    def _missing_dependencies(files) -> list[str]:
        return sorted({d for f in files.values() for d in f.dependency if d not in files})

    def files_of(self, answer) -> list[descriptor_pb2.FileDescriptorProto]:
        self._raise_if_error(answer)
        if not answer.HasField("file_descriptor_response"):
            raise AssertionError(f"expected file_descriptor_response, got {answer}")
        return [
            descriptor_pb2.FileDescriptorProto.FromString(raw)
            for raw in answer.file_descriptor_response.file_descriptor_proto
        ]

    @staticmethod
    def _raise_if_error(answer) -> None:
        if answer.HasField("error_response"):
            raise ReflectionError(
                answer.error_response.error_code, answer.error_response.error_message
            )
