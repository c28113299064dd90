"""Real processes for the background-work tests: a Celery worker, a throwaway Redis, an SMTP sink.

The worker runs `celery -A config worker` as a subprocess against the test
database (so tests using it need committed rows: `transactional_db`) and a
broker of the test's choosing; it sends email over SMTP into `SmtpSink`, which
records each accepted message with its `X-Notification-Key`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter


def free_port(start: int = 6390) -> int:
    """A free local port at or above `start` (throwaway Redis servers start at 6390)."""
    for port in range(start, start + 200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


def wait_for(predicate: Callable[[], object], *, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def test_database_url() -> str:
    """DATABASE_URL of pytest-django's test database, for the worker subprocess."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("a worker subprocess needs the PostgreSQL test database")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class RedisServer:
    """A redis-server of our own on a spare port, never the machine's shared one."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port(6390)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=10, what="redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        key = message["X-Notification-Key"]
        if self.sink.hold_key is None and self.sink.hold_next:
            # Keep this one waiting before it is accepted. If the sender dies
            # meanwhile, aiosmtpd cancels us and the message is never accepted,
            # as with a real server that had not yet said 250.
            self.sink.hold_key = key
            self.sink.holding.set()
            await asyncio.sleep(3600)
        self.sink.record(key, envelope.rcpt_tos, message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on a spare port, recording every accepted message by its notification key."""

    def __init__(self) -> None:
        self.port = free_port(2600)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.messages: list[tuple[str, list[str], object]] = []
        self.lock = threading.Lock()
        self.hold_next = False
        self.hold_key: str | None = None
        self.holding = threading.Event()

    def record(self, key, recipients, message) -> None:
        with self.lock:
            self.messages.append((key, recipients, message))

    @property
    def keys(self) -> list[str]:
        with self.lock:
            return [key for key, _, _ in self.messages]

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class Worker:
    """`celery -A config worker` in its own process group, killable as a whole."""

    def __init__(self, *, broker_url: str, smtp_port: int, log: Path, concurrency: int = 2) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": broker_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            # A claim of a killed worker is taken back after seconds, not minutes.
            "NOTIFICATION_CLAIM_TIMEOUT": "3",
            "LOG_LEVEL": "INFO",
        }
        self.log = log
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.write_text("")
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    "--loglevel=INFO", f"--concurrency={self.concurrency}",
                    "--without-mingle", "--without-gossip", "--without-heartbeat",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(lambda: "ready." in self.log.read_text(), timeout=60, what="the worker")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: no cleanup, no acks."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def postgres_bindir() -> Path | None:
    """Debian's PostgreSQL server binaries (initdb, pg_ctl), the newest version installed."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """A PostgreSQL cluster of our own (initdb) on a spare port, never the machine's one.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` OS
    user (`runuser -u postgres --`), in a folder of its own under the system's temp dir.
    Trust authentication on 127.0.0.1 only; no fsync (it is thrown away).
    """

    def __init__(self, bindir: Path) -> None:
        import pwd
        import tempfile

        self.bindir = bindir
        self.port = free_port(5440)
        self.as_user: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.as_user, *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(self.data),
            "-l", str(self.log),
            "-o", options,
            "-w", "-t", "30",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"
            )  # fmt: skip

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres").replace("postgres://", "postgresql://")) as conn:
            conn.autocommit = True
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server (immediately) and delete every file of the cluster."""
        try:
            self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
