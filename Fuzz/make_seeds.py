#!/usr/bin/env python3
"""Writes the committed seed corpus of every fuzz target (Fuzz/corpus/<target>/).

Seeds are small, valid (or nearly valid) inputs in each target's input format, so libFuzzer
starts from inputs that reach deep code rather than rediscovering the protocol. Standard
library only; run it again after changing a target's input format.
"""

import base64
import gzip
import hashlib
import hmac
import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "corpus"


def chunked(data: bytes, size: int = 256) -> bytes:
    """FuzzInput.chunks(): each chunk is a length byte (size - 1) and its bytes."""
    out = b""
    for i in range(0, len(data), size):
        piece = data[i : i + size]
        out += bytes([len(piece) - 1]) + piece
    return out


def grpc_frame(message: bytes, compressed: bool = False) -> bytes:
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


def pb_string(field: int, value: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(value)) + value


def varint(value: int) -> bytes:
    out = b""
    while value >= 0x80:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


def pb_varint(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def literal(name: bytes, value: bytes) -> bytes:
    """HPACK literal without indexing, new name, no Huffman (short strings only)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def request_block(path: bytes, extra: list[tuple[bytes, bytes]] = ()) -> bytes:
    fields = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
              (b":authority", b"fuzz"), (b"content-type", b"application/grpc"),
              (b"te", b"trailers"), *extra]
    return b"".join(literal(n, v) for n, v in fields)


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def write(target: str, name: str, data: bytes) -> None:
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main() -> None:
    hello = grpc_frame(b"hello")
    write("FuzzDeframer", "one", b"\x10" + chunked(hello))
    write("FuzzDeframer", "split", b"\x10" + b"\x01" + hello[:2] + b"\x05" + hello[2:] + hello[:0])
    write("FuzzDeframer", "two", b"\x10" + chunked(hello + grpc_frame(b"")))
    write("FuzzDeframer", "gzip", b"\x10" + chunked(grpc_frame(gzip.compress(b"x" * 100), True)))
    write("FuzzDeframer", "oversized", b"\x01" + chunked(grpc_frame(b"y" * 100)))
    write("FuzzDeframer", "bad-flag", b"\x10" + chunked(b"\x02" + hello[1:]))

    # The first byte picks the type (index into FuzzProtoDecode's list).
    write("FuzzProtoDecode", "send-message", bytes([11]) + pb_string(1, b"room-1")
          + pb_string(2, b"client-id") + pb_string(3, b"hello"))
    write("FuzzProtoDecode", "get-messages", bytes([4]) + pb_string(1, b"room-1")
          + pb_varint(2, 10) + pb_varint(3, 50))
    write("FuzzProtoDecode", "create-group", bytes([1]) + pb_string(1, b"team")
          + pb_string(2, b"alice") + pb_string(2, b"bob"))
    write("FuzzProtoDecode", "unknown-field", bytes([21]) + pb_string(15, b"unknown")
          + pb_varint(1000, 7))
    write("FuzzProtoDecode", "health", bytes([29]) + pb_string(1, b""))

    write("FuzzMetadata", "timeout", b"\x00" + b"100m")
    write("FuzzMetadata", "timeout-max", b"\x00" + b"99999999H")
    write("FuzzMetadata", "percent", b"\x01" + b"caf%C3%A9 100%25 %zz")
    write("FuzzMetadata", "base64", b"\x02" + b"AAECAwQ=")
    write("FuzzMetadata", "head", b"\x03" + b"\x00".join(
        [b":path", b"/a.B/C", b"content-type", b"application/grpc+proto",
         b"grpc-timeout", b"5S", b"grpc-encoding", b"gzip",
         b"grpc-accept-encoding", b"identity, gzip", b"x-trace-bin", b"AAEC", b"x-user", b"me"]))

    secret = b"fuzzing-secret-of-at-least-32-bytes!"
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    claims = json.dumps({"sub": "alice", "name": "Alice", "role": "user", "iss": "chatd",
                         "exp": 4_102_444_800}).encode()
    signing = b64url(header) + b"." + b64url(claims)
    token = signing + b"." + b64url(hmac.new(secret, signing, hashlib.sha256).digest())
    write("FuzzToken", "valid", b"\x00" + token)
    write("FuzzToken", "alg-none", b"\x00" + b64url(b'{"alg":"none"}') + b"." + b64url(claims) + b".")
    write("FuzzToken", "signed-claims", b"\x01" + header + b"\x00" + claims)
    write("FuzzToken", "signed-expired", b"\x01" + header + b"\x00"
          + json.dumps({"sub": "bob", "exp": 1, "nbf": 4_102_444_800}).encode())

    settings = h2_frame(0x4, 0, 0)
    health = grpc_frame(pb_string(1, b""))
    call = (h2_frame(0x1, 0x4, 1, request_block(b"/grpc.health.v1.Health/Check"))
            + h2_frame(0x0, 0x1, 1, health))
    echo = (h2_frame(0x1, 0x4, 3, request_block(b"/fuzz.Echo/Get", [(b"grpc-timeout", b"1S")]))
            + h2_frame(0x0, 0x1, 3, grpc_frame(b"echo")))
    # The first byte's low bit asks the target to prepend the client preface.
    write("FuzzServerConnection", "health", b"\x01" + chunked(settings + call))
    write("FuzzServerConnection", "echo-and-ping", b"\x01" + chunked(
        settings + echo + h2_frame(0x6, 0, 0, b"12345678") + h2_frame(0x8, 0, 0, b"\x00\x01\x00\x00")))
    write("FuzzServerConnection", "reset", b"\x01" + chunked(
        settings + h2_frame(0x1, 0x4, 1, request_block(b"/fuzz.Echo/Get"))
        + h2_frame(0x3, 0, 1, b"\x00\x00\x00\x08") + h2_frame(0x7, 0, 0, b"\x00" * 8)))
    write("FuzzServerConnection", "no-preface", b"\x00" + chunked(b"GET / HTTP/1.1\r\n\r\n"))


if __name__ == "__main__":
    main()
