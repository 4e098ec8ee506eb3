"""Throwaway PostgreSQL clusters through scripts/pg (a folder, a unix socket, no TCP)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from chatd_interop.server import REPO_ROOT

PG = REPO_ROOT / "scripts" / "pg"


def pg(command: str, folder: Path) -> str:
    result = subprocess.run(
        [str(PG), command, str(folder)], check=True, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, env=dict(os.environ, PG_FSYNC="off"),
    )
    return result.stdout.strip()


def traversable_folder(prefix: str) -> Path:
    """A new folder the `postgres` user can reach (pytest's own tmp dirs are private)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    folder.chmod(0o755)
    return folder


class Cluster:
    def __init__(self, prefix: str = "chatd-interop-pg."):
        self.folder = traversable_folder(prefix)
        self.url = pg("start", self.folder)

    def stop(self) -> None:
        pg("stop", self.folder)

    def start(self) -> None:
        pg("start", self.folder)

    def destroy(self) -> None:
        try:
            pg("destroy", self.folder)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
