"""The production topology for real: gunicorn, a Celery worker and beat on PostgreSQL and Redis.

Production settings (DEBUG off, both keys read from files, SMTP email into a
sink, gunicorn with deploy/gunicorn.conf.py and two workers) on a fresh,
migrated and seeded database and a Redis of the test's own, migrated as the
tables' owner and run, as deploy/ does, as a runtime role `grant_runtime_role`
makes, which owns nothing (docs/audit.md, "Database roles"). An exporter
submits an application over HTTP; the reviews are routed and the reviewers'
notifications reach the SMTP server; a review made overdue is escalated by
beat's deadline sweep (every few seconds here); then every process gets
SIGTERM, exits cleanly, and nothing was lost: no notification is left claimed
mid-send, none failed, and the audit chain verifies against the processes' own
log of every event they committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.api.conftest import draft_payload
from tests.harness import RedisServer, SmtpSink, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "smoke-demo-password"
# What the test run itself set that production would not.
_NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "CACHE_URL", "VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT",
    "CELERY_BROKER_DIR", "CELERY_BEAT_SCHEDULE_FILENAME", "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_FILE_PATH", "SECRET_KEY", "AUDIT_HMAC_KEY", "DEBUG", "PORT",
}  # fmt: skip


@pytest.fixture
def fresh_database():
    """A new PostgreSQL database on DATABASE_URL's server, dropped (forcibly) afterwards."""
    import psycopg
    from psycopg import sql

    server = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    maintenance = urllib.parse.urlunsplit(server._replace(path="/postgres"))
    name = f"licensing_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def runtime_role():
    """A role name of this test's own (roles belong to the whole server), dropped afterwards.

    Requested before `fresh_database`, so it is dropped after the database that held its
    privileges."""
    import psycopg
    from psycopg import sql

    name = f"licensing_smoke_app_{os.getpid()}_{secrets.token_hex(3)}"
    yield name
    server = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    maintenance = urllib.parse.urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


class Topology:
    """The three roles as separate processes, each with its log file."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, role: str, *argv: str) -> None:
        with (self.logs / f"{role}.log").open("w") as out:
            self.processes[role] = subprocess.Popen(
                [sys.executable, "-m", *argv],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, role: str) -> str:
        return (self.logs / f"{role}.log").read_text(errors="replace")

    def alive(self) -> None:
        for role, process in self.processes.items():
            assert process.poll() is None, f"{role} died:\n{self.log(role)[-3000:]}"

    def terminate(self) -> dict[str, int | None]:
        """SIGTERM to each main process (the graceful path), then wait; what each exited with."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for role, process in self.processes.items():
            try:
                codes[role] = process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                codes[role] = None
        return codes

    def kill_leftovers(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _request(base: str, method: str, path: str, body=None, token: str | None = None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def _healthy(base: str) -> bool:
    try:
        return _request(base, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def test_gunicorn_worker_and_beat_in_production_settings_lose_nothing(
    tmp_path, runtime_role, fresh_database
):
    import psycopg

    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    (secrets_dir / "secret_key").write_text(secrets.token_urlsafe(50) + "\n")
    (secrets_dir / "audit_hmac_key").write_text(secrets.token_urlsafe(50) + "\n")
    redis = RedisServer(tmp_path)
    sink = SmtpSink()
    port = free_port(18400)
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY_FILE": str(secrets_dir / "secret_key"),
            "AUDIT_HMAC_KEY_FILE": str(secrets_dir / "audit_hmac_key"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": fresh_database,
            "REDIS_URL": redis.url,
            "VAR_DIR": str(tmp_path / "var"),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "DEADLINE_SWEEP_SECONDS": "5",
            "DEMO_PASSWORD": PASSWORD,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "2",
            "SITE_URL": base,
            "LOG_LEVEL": "INFO",
        }
    )
    owner = urllib.parse.urlsplit(fresh_database)
    runtime_url = urllib.parse.urlunsplit(
        owner._replace(
            netloc=f"{runtime_role}:{secrets.token_hex(8)}@{owner.hostname}:{owner.port}"
        )
    )
    topology = Topology(env, tmp_path)
    redis.start()
    sink.start()
    try:
        # As deploy does: migrations and the runtime role as the owner, the rest as that role.
        for step in (("migrate", "--noinput"), ("grant_runtime_role",)):
            done = topology.manage(*step, env={"RUNTIME_DATABASE_URL": runtime_url})
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        env["DATABASE_URL"] = runtime_url
        seeded = topology.manage("seed_demo")
        assert seeded.returncode == 0, seeded.stdout[-2000:] + seeded.stderr[-2000:]
        (tmp_path / "seed.log").write_text(seeded.stderr)

        topology.start(
            "web", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"
        )
        topology.start(
            "worker", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2",
            "--without-mingle", "--without-gossip",
        )  # fmt: skip
        topology.start("beat", "celery", "-A", "config", "beat", "--loglevel=INFO")
        wait_for(lambda: _healthy(base), timeout=60, what="gunicorn's /healthz")
        wait_for(lambda: "ready." in topology.log("worker"), timeout=60, what="the worker")
        topology.alive()

        # An exporter submits an application over HTTP, with a token.
        status, body = _request(
            base, "POST", "/api/v1/auth/token/", {"username": "exporter", "password": PASSWORD}
        )
        assert status == 200
        token = body["token"]
        status, created = _request(base, "POST", "/api/v1/applications/", draft_payload(), token)
        assert status == 201, created
        application = created["id"]
        status, submitted = _request(
            base, "POST", f"/api/v1/applications/{application}/submit/", None, token
        )
        assert (status, submitted["status"]) == (200, "under_review")

        with psycopg.connect(fresh_database, autocommit=True) as db:

            def rows(query: str, *params) -> list[tuple]:
                return db.execute(query, params).fetchall()

            reviews = rows(
                "SELECT id, ministry FROM licensing_review WHERE application_id = %s ORDER BY id",
                application,
            )
            assert reviews, "the submission routed no review"

            # The reviewers' notifications go out through the worker to the SMTP server.
            def delivered() -> list[str]:
                return [
                    key
                    for (key,) in rows(
                        "SELECT key FROM licensing_notification WHERE application_id = %s"
                        " AND delivery_status = 'sent'",
                        application,
                    )
                ]

            wait_for(delivered, timeout=60, what="a notification sent")
            assert set(delivered()) <= set(sink.keys)

            # A review made overdue: beat's sweep (every 5 s) applies its first step.
            review_id, ministry = reviews[0]
            rows(
                "UPDATE licensing_review SET due_date = %s WHERE id = %s RETURNING id",
                date.today() - timedelta(days=3),
                review_id,
            )

            def escalated() -> bool:
                [(level,)] = rows(
                    "SELECT escalation_level FROM licensing_review WHERE id = %s", review_id
                )
                return level >= 1

            wait_for(escalated, timeout=45, what=f"beat's sweep to escalate the {ministry} review")
            assert rows(
                "SELECT id FROM licensing_auditevent WHERE application_id = %s"
                " AND action = 'escalation_step'",
                application,
            )
            escalation_keys = [
                key
                for (key,) in rows(
                    "SELECT key FROM licensing_notification WHERE key LIKE %s",
                    f"escalation:{review_id}:%",
                )
            ]
            assert escalation_keys, "the escalation notified no one"
            wait_for(
                lambda: set(escalation_keys) <= set(sink.keys),
                timeout=45,
                what="the escalation's notification at the SMTP server",
            )
            topology.alive()

            # SIGTERM to every process: each stops cleanly...
            codes = topology.terminate()
            assert codes == {"web": 0, "worker": 0, "beat": 0}, {
                role: topology.log(role)[-2000:] for role in codes
            }
            # ...and nothing was lost: every notification sent, or pending for the relay;
            # none claimed mid-send by a worker that is gone, none given up on.
            statuses = dict(
                rows(
                    "SELECT delivery_status, count(*) FROM licensing_notification"
                    " GROUP BY delivery_status"
                )
            )
            assert set(statuses) <= {"sent", "pending"}, statuses
            sent = {
                key
                for (key,) in rows(
                    "SELECT key FROM licensing_notification WHERE delivery_status = 'sent'"
                )
            }
            assert sent <= set(sink.keys)

        # Every event the seeder, web, worker and beat committed is in their logs.
        logs = [tmp_path / f"{role}.log" for role in ("seed", "web", "worker", "beat")]
        verified = topology.manage("verify_audit_chain", *(f"--log={log}" for log in logs))
        assert verified.returncode == 0, verified.stderr[-2000:]
        [(checked, logged)] = re.findall(
            r"Audit chain intact: (\d+) events verified \(against \d+ anchors and (\d+) logged",
            verified.stdout,
        )
        assert int(checked) == int(logged) > 0, verified.stdout
    finally:
        topology.kill_leftovers()
        sink.stop()
        redis.stop()
