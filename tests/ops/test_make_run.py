"""`make run` on a fresh clone: web, worker and beat start and stay up, and the clone stays clean.

Web is gunicorn with deploy/gunicorn.conf.py, as in production (Django's development
server dropped connections in a burst of 30): it says so in its Server header, answers
a burst of 30 concurrent requests, and serves the pages' CSS with DEBUG on.

Each test clones this repository (its committed HEAD) into a temporary folder
and runs the real `make run` there: the Makefile's migrate, seed and run
targets and the Procfile under honcho. The clone borrows this checkout's
virtualenv through a `.venv` symlink, and make is told the install step is
done (`-o .venv/.installed`; the clone's pyproject.toml is newer than the
marker), so nothing is reinstalled.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"

# Nothing from the test run may leak into `make run`: it must find what it
# needs from the clone and the two URLs alone.
_INHERITED_OUT = {
    "DATABASE_URL",
    "REDIS_URL",
    "VAR_DIR",
    "CELERY_BROKER_DIR",
    "CELERY_BEAT_SCHEDULE_FILENAME",
    "CELERY_TASK_ALWAYS_EAGER",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "EMAIL_FILE_PATH",
    "DJANGO_SETTINGS_MODULE",
    "PYTHONPATH",
    "PORT",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
}

STARTUP_TIMEOUT = 60
STAY_UP = 10
BURST = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def clone(tmp_path):
    if not (VENV / "bin" / "honcho").exists() or not shutil.which("make"):
        pytest.skip("needs make and this checkout's .venv (make install)")
    if not (ROOT / ".git").exists() or not shutil.which("git"):
        pytest.skip("needs this checkout's git repository")
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=60)
    (target / ".venv").symlink_to(VENV)
    assert _git_status(target) == "", "a fresh clone with the venv linked in is clean"
    return target


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database on DATABASE_URL's server, dropped afterwards."""
    import psycopg
    from psycopg import sql

    server = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    maintenance = urllib.parse.urlunsplit(server._replace(path="/postgres"))
    name = f"licensing_make_run_{os.getpid()}_{secrets.token_hex(3)}"
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
def fresh_redis_url():
    """REDIS_URL's server, database 13 (CI's tests use 15), emptied before and after."""
    import redis

    url = urllib.parse.urlunsplit(
        urllib.parse.urlsplit(os.environ["REDIS_URL"])._replace(path="/13")
    )
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _git_status(repo: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def _environment(**settings: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _INHERITED_OUT and not key.startswith("PYTEST_")
    }
    env.update(PYTHONUNBUFFERED="1", **settings)
    return env


def _status(url: str, opener=None) -> int:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _log_in(base: str, username: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A demo user logs in through the login page and lands on the home page.

    Returns their opener (holding the session cookie) and the home page."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": "demo-password"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=30) as response:
        assert response.status == 200
        assert urllib.parse.urlsplit(response.url).path == "/", "redirected home, logged in"
        return opener, response.read().decode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _burst(base: str, reviewer: urllib.request.OpenerDirector) -> list[int | str]:
    """BURST requests at once, each on its own connection: two thirds the reviewer's queue
    page, every third an anonymous request for it (sent to the login page, not followed)."""
    anonymous = urllib.request.build_opener(_NoRedirects)

    def one(i: int) -> int | str:
        opener = anonymous if i % 3 == 0 else reviewer
        try:
            with opener.open(f"{base}/", timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:  # a refused or dropped connection
            return repr(error)

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(one, range(BURST)))


def _stop(proc: subprocess.Popen) -> None:
    """What Ctrl-C does to `make run`: a signal to its process group; honcho stops the rest."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _run_and_check(clone: Path, log: Path, **settings: str) -> str:
    """`make run` in the clone; web answers, worker and beat start, all stay up. Returns the log."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _environment(PORT=str(port), **settings)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            output = log.read_text(errors="replace")
            started = (
                _status(f"{base}/healthz") == 200
                and re.search(r"^\S+ worker\.1\s*\|.*\bready\.", output, re.M)
                and re.search(r"^\S+ beat\.1\s*\|.*beat: Starting", output, re.M)
            )
            if started:
                break
            assert proc.poll() is None, f"make run exited with {proc.returncode}:\n{output}"
            assert time.monotonic() < deadline, f"not up in {STARTUP_TIMEOUT} s:\n{output}"
            time.sleep(0.5)

        with urllib.request.urlopen(f"{base}/accounts/login/", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"] == "gunicorn", "served by gunicorn, not runserver"
            stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', response.read().decode())
        assert re.search(
            rf"^\S+ web\.1\s*\|.*\[INFO\] Listening at: http://127\.0\.0\.1:{port} ",
            log.read_text(errors="replace"),
            re.M,
        ), "gunicorn listens on 127.0.0.1:$PORT only"
        assert stylesheets, "the login page links its CSS"
        for path in stylesheets:
            with urllib.request.urlopen(f"{base}{path}", timeout=10) as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/css"), path

        reviewer, queue = _log_in(base, "economy")
        assert "Economy review queue" in queue, queue[:2000]
        answers = _burst(base, reviewer)
        assert answers == [302 if i % 3 == 0 else 200 for i in range(BURST)], answers

        time.sleep(STAY_UP)
        output = log.read_text(errors="replace")
        assert proc.poll() is None, f"make run exited with {proc.returncode}:\n{output}"
        assert not re.search(r"\| (web|worker|beat)\.1 stopped", output), output
        assert _status(f"{base}/healthz") == 200
    finally:
        _stop(proc)
    return log.read_text(errors="replace")


@pytest.mark.postgres
@pytest.mark.redis
def test_make_run_on_a_fresh_clone_with_postgres_and_redis(
    clone, fresh_database, fresh_redis_url, tmp_path
):
    output = _run_and_check(
        clone, tmp_path / "make-run.log", DATABASE_URL=fresh_database, REDIS_URL=fresh_redis_url
    )

    assert list((clone / "var").glob("celerybeat-schedule*")), (
        "beat's schedule is in the clone's var/"
    )
    assert _git_status(clone) == "", output


def test_make_run_on_a_fresh_clone_with_sqlite_and_the_filesystem_broker(clone, tmp_path):
    output = _run_and_check(clone, tmp_path / "make-run.log")

    var = clone / "var"
    assert (var / "db.sqlite3").exists()
    assert list(var.glob("celerybeat-schedule*"))
    assert (var / "broker" / "control").is_dir(), "kombu's control folder is under var/broker/"
    assert _git_status(clone) == "", output
