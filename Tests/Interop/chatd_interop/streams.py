"""Server-streaming calls read on a background thread, so tests can wait for events with a
timeout instead of blocking on a stream forever."""

from __future__ import annotations

import queue
import threading
import time

import grpc


class Tail:
    """Reads every message of a streaming call into a queue until the call ends."""

    def __init__(self, call):
        self.call = call
        self.events: queue.Queue = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.ended = threading.Event()
        self.received: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            for event in self.call:
                self.received.append(f"{time.monotonic():.3f}:{event.WhichOneof('event')}")
                self.events.put(event)
        except grpc.RpcError as error:
            self.error = error
        finally:
            self.ended.set()

    def next(self, timeout: float = 10.0, skip=("heartbeat",)):
        """The next event whose oneof is not in `skip`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(0.0, remaining))
            except queue.Empty:
                detail = f" (stream ended: {self.error.code()} {self.error.details()})" if self.error else ""
                raise AssertionError(f"no event within {timeout}s{detail}; received {self.received[-10:]}") from None
            if event.WhichOneof("event") not in skip:
                return event

    def until(self, predicate, timeout: float = 10.0, skip=("heartbeat",)):
        """Events up to and including the first that satisfies `predicate`."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.next(max(0.01, deadline - time.monotonic()), skip=skip)
            except AssertionError as error:
                raise AssertionError(f"{error}; seen before: {[e.WhichOneof('event') for e in seen]}") from None
            seen.append(event)
            if predicate(event):
                return seen

    def quiet(self, seconds: float, skip=("heartbeat",)) -> list:
        """Every non-skipped event that arrives within `seconds` (expected: none)."""
        got = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                break
            if event.WhichOneof("event") not in skip:
                got.append(event)
        return got

    def cancel(self):
        self.call.cancel()
        self.ended.wait(5)

    def wait_end(self, timeout: float = 10.0) -> grpc.RpcError | None:
        assert self.ended.wait(timeout), "the stream did not end"
        return self.error
