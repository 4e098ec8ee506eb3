"""What must never appear in chatd's output: token secrets, push API keys, bearer tokens and
TLS private keys. Used by the session-wide check in conftest.py (every chatd of the run) and
by test_security_logs.py (one chatd at trace level that exercises everything)."""

from __future__ import annotations

import re
from pathlib import Path

# Any JWT (header and payload are base64url JSON objects, so both start with "eyJ").
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")

SECRET_FLAGS = ("--jwt-secret", "--onesignal-api-key")
SECRET_ENV = ("CHATD_JWT_SECRET", "CHATD_ONESIGNAL_API_KEY")
KEY_FILE_FLAGS = ("--tls-key",)


def private_key_lines(path: Path) -> list[str]:
    """The base64 lines of a PEM private key (each is unique to the key)."""
    try:
        text = path.read_text()
    except OSError:
        return []
    return [line for line in text.splitlines()
            if line and not line.startswith("-----") and len(line) >= 32]


def secrets_of(args: tuple[str, ...], env: dict[str, str], workdir: Path) -> list[str]:
    """The secrets one chatd was given: flag values, env values, key files, the dev secret."""
    found = []
    for index, arg in enumerate(args[:-1]):
        if arg in SECRET_FLAGS:
            found.append(args[index + 1])
        elif arg in KEY_FILE_FLAGS:
            found += private_key_lines(Path(args[index + 1]))
    found += [env[name] for name in SECRET_ENV if env.get(name)]
    dev_secret = workdir / "data" / "jwt-secret"
    if dev_secret.is_file():
        found.append(dev_secret.read_text().strip())
    return [s for s in found if len(s) >= 8]


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Descriptions of every secret or token found in `text` (shortened, never whole)."""
    found = [f"a secret starting {s[:6]!r}" for s in set(secrets) if s in text]
    found += [f"a JWT starting {m.group(0)[:16]!r}" for m in JWT.finditer(text)]
    found += [f"a PEM private key block" for _ in re.finditer(r"-----BEGIN [A-Z ]*PRIVATE KEY",
                                                              text)]
    return found
