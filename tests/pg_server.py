"""A throwaway PostgreSQL server for the tests: initdb in a temp dir, loopback only.

PostgreSQL refuses to run as root, so when the tests run as root (as in CI)
the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin(name: str) -> str | None:
    """The path of a PostgreSQL program, from PATH or Debian's versioned folders."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """Start with :meth:`start`, connect with :attr:`url`, end with :meth:`stop`."""

    def __init__(self) -> None:
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise FileNotFoundError("initdb/pg_ctl not found: install PostgreSQL 15 (postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="survey-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        )
        self._pg_start()
        return self

    def _pg_start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server as an operator would (``-m fast``: open sessions are
        ended), stay down ``down_seconds``, then start it again on the same port."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(down_seconds)
        self._pg_start()

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
