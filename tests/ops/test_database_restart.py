"""Fault: PostgreSQL restarted under load, with the app left running.

A throwaway PostgreSQL cluster (initdb, on a spare port; never the machine's server)
is migrated and served by gunicorn with production settings (DEBUG off, persistent
connections for 60 s, checked before reuse). While a few threads keep requesting the
health probe, an authenticated API list and a page behind login, the test stops
PostgreSQL (`pg_ctl stop -m fast`) and starts it again on the same port:

- every request is answered within ANSWER_WITHIN seconds, and never with a 500;
- while the database is down, every answer is a 503 (the app's with Retry-After);
- once it is back, the same gunicorn processes (same PIDs) answer 200 again within
  RECOVER_WITHIN seconds, and keep doing so.
"""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT, PostgresCluster, free_port, postgres_bindir, wait_for

pytestmark = pytest.mark.postgres

ANSWER_WITHIN = 5.0  # seconds: "quickly", for every request at every moment
DOWN_FOR = 4.0  # seconds the database stays down under load
RECOVER_WITHIN = 10.0  # seconds after PostgreSQL is back until every path answers 200
CLIENTS = 4

# Nothing of the test run's own services may leak into the app under test.
_INHERITED_OUT = {
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_URL",
    "VAR_DIR",
    "CELERY_BROKER_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "AUDIT_HMAC_KEY",
}

MAKE_TOKEN = """
from accounts.models import Organisation, User
from accounts.tokens import issue_token
organisation = Organisation.objects.create(name="Restart Test Ltd")
user = User.objects.create_user(
    username="restart", password="unused-password-1234", role="exporter",
    organisation=organisation,
)
print(issue_token(user)[1])
"""


@dataclass
class Answer:
    path: str
    sent: float  # monotonic
    took: float
    status: int | None  # None: no answer (refused, reset, timed out)
    retry_after: str | None = None
    error: str = ""


class Load:
    """CLIENTS threads, each requesting every path in turn, as fast as answers come."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.requests = [
            ("/healthz", {}),
            ("/api/v1/countries/", {"Authorization": f"Token {token}"}),
            # A page behind login with a session cookie: the session is looked up.
            ("/", {"Cookie": "sessionid=" + "x" * 32}),
        ]
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def _one(self, path: str, headers: dict) -> Answer:
        sent = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=ANSWER_WITHIN * 3)
        try:
            conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
            response = conn.getresponse()
            response.read()
            return Answer(
                path,
                sent,
                time.monotonic() - sent,
                response.status,
                response.getheader("Retry-After"),
            )
        except (OSError, http.client.HTTPException) as exc:
            return Answer(path, sent, time.monotonic() - sent, None, error=repr(exc))
        finally:
            conn.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            for path, headers in self.requests:
                answer = self._one(path, headers)
                with self.lock:
                    self.answers.append(answer)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=ANSWER_WITHIN * 4)

    def between(self, start: float, end: float) -> list[Answer]:
        """Answers to requests sent after `start` that came back before `end`."""
        with self.lock:
            return [a for a in self.answers if a.sent >= start and a.sent + a.took <= end]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.fixture
def cluster():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    pg = PostgresCluster(bindir)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def app_env(cluster, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_OUT}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_HMAC_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=cluster.create_database("licensing"),
        DB_CONN_MAX_AGE="60",
        VAR_DIR=str(tmp_path / "var"),  # the broker (kombu's filesystem transport) and cache
        LOG_LEVEL="WARNING",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    return env


@pytest.fixture
def gunicorn(app_env, tmp_path):
    port = free_port(8300)
    log = tmp_path / "gunicorn.log"
    env = {
        **app_env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            return conn.getresponse().status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, timeout=60, what="gunicorn to answer /healthz")
        yield port, process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)


def _describe(answers: list[Answer]) -> str:
    return "\n".join(
        f"  {a.path} -> {a.status} (Retry-After {a.retry_after}) in {a.took:.2f}s {a.error}"
        for a in answers[:20]
    )


def test_postgresql_restarted_under_load_is_a_quick_503_then_recovers_in_place(
    cluster, app_env, gunicorn
):
    port, master, log = gunicorn
    token = (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", MAKE_TOKEN],
            cwd=ROOT,
            env=app_env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    workers = _children(master.pid)
    assert len(workers) == 2, log.read_text()

    load = Load(port, token)
    load.start()
    try:
        # Up: everything answers as usual, over persistent database connections.
        time.sleep(2)
        up = load.between(0, time.monotonic())
        expected = {"/healthz": 200, "/api/v1/countries/": 200, "/": 302}
        wrong = [a for a in up if a.status != expected[a.path]]
        assert up and not wrong, "before the restart:\n" + _describe(wrong)

        # Down: PostgreSQL stopped (fast: open sessions are terminated) under load.
        cluster.stop(mode="fast")
        down_from = time.monotonic()
        time.sleep(DOWN_FOR)
        down_until = time.monotonic()
        cluster.start()
        back_from = time.monotonic()

        down = load.between(down_from, down_until)
        assert len(down) >= 3 * len(load.requests), "too few requests while down"
        # The probe says 503 for load balancers; the app's own answers add a Retry-After.
        not_503 = [
            a for a in down if a.status != 503 or (a.path != "/healthz" and a.retry_after is None)
        ]
        assert not not_503, "while PostgreSQL was down:\n" + _describe(not_503)

        # Back: the same processes answer 200 (302 for the page) within seconds.
        def recovered() -> bool:
            recent = load.between(time.monotonic() - 1.0, time.monotonic())
            return {a.path for a in recent if a.status == expected[a.path]} == set(expected)

        wait_for(recovered, timeout=RECOVER_WITHIN, what="every path to answer as usual again")
        recovered_at = time.monotonic()
        time.sleep(2)
        steady = load.between(recovered_at + 0.5, time.monotonic())
        wrong = [a for a in steady if a.status != expected[a.path]]
        assert steady and not wrong, "after the restart:\n" + _describe(wrong)
    finally:
        load.stop()

    everything = load.answers
    slow = [a for a in everything if a.took > ANSWER_WITHIN or a.status is None]
    assert not slow, f"{len(slow)} requests unanswered or slower than {ANSWER_WITHIN}s:\n" + (
        _describe(slow)
    )
    allowed = {200, 302, 503}
    odd = [a for a in everything if a.status not in allowed]
    assert not odd, "answers other than 200, 302 or 503:\n" + _describe(odd)
    assert master.poll() is None
    assert _children(master.pid) == workers, "gunicorn's workers were replaced"
    print(  # noqa: T201 - the timings, for the record (pytest -s)
        f"\n{len(everything)} requests; recovered {recovered_at - back_from:.2f}s after "
        f"PostgreSQL was back; slowest answer {max(a.took for a in everything):.2f}s"
    )
