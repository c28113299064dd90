"""`make bench`: national-scale measurements, printed as one table with targets.

One run:

1. a PostgreSQL database of its own (`licensing_bench`, from BENCH_DATABASE_URL),
   seeded by `manage.py seed_demo --applications BENCH_SIZE` and reused while it
   holds that size (a marker table records it; BENCH_RESEED=1 seeds afresh);
2. gunicorn with the production settings (DEBUG off, a secret key, ALLOWED_HOSTS
   127.0.0.1, no SSL redirect, persistent connections) and deploy/gunicorn.conf.py;
   beside it, the floor: ../shared/bench/floor.py (BENCH_FLOOR), bare Django and DRF
   with no middleware answering one primary-key query at /drfdb, served by gunicorn
   with the same workers, threads and worker class, against the same database;
3. wrk against the floor (with nothing else running, before and after the rest: every
   ratio is to the faster), then, while another organisation's exporter creates and
   edits drafts through the API (BENCH_WRITES_PER_S) and a reviewer claims a review of
   a case in the read set every BENCH_REVIEWER_EVERY seconds: the reviewer's queue page,
   the case page and the API detail cycling over BENCH_READ_SET cases (reads under
   writes, kept pages as a reader finds them), the same three rendered from the
   database (a second server of the project with PAGE_CACHE_SECONDS=0), creating a
   two-good draft and submitting drafts (each once), then an open-loop burst of
   submissions; SQL queries per request measured in-process with the test client
   against the same database; the gunicorn workers' peak memory;
4. in a schema of its own inside the same database (`bench_aux`, so its rows
   never show in the pages measured): the deadline sweep over 100,000 and over
   1,000,000 open reviews holding the same 10,000 due ones (what a sweep did is
   undone before the next, so both do the same work), and one
   Celery worker on Redis delivering 10,000 notifications into an aiosmtpd sink.

Everything written goes under var/bench/. The exit status is 0 whatever the
results (it is a measurement); it is 1 only when the run could not start.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "var" / "bench"
BIN = Path(sys.executable).parent
LUA = ROOT / "tests" / "bench" / "wrk" / "requests.lua"
AUX_SCHEMA = "bench_aux"
REVIEWER = "economy"  # the ministry every generated dual-use application goes to
EXPORTER = "exporter"
# The concurrent writer: an exporter of another organisation than EXPORTER's, so its drafts
# show on no page the reviewer reads (they renew that organisation's queue, not the
# ministry's).
WRITER = "exporter2"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Config:
    size: int = env_int("BENCH_SIZE", 100_000)
    reseed: bool = env_flag("BENCH_RESEED")
    duration: int = env_int("BENCH_DURATION", 15)
    threads: int = env_int("BENCH_THREADS", 2)
    connections: int = env_int("BENCH_CONNECTIONS", 8)
    database_url: str = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/licensing_bench"
    )
    redis_url: str = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
    sweep_sizes: tuple[int, ...] = tuple(
        int(n) for n in os.environ.get("BENCH_SWEEP_SIZES", "100000,1000000").split(",")
    )
    sweep_due: int = env_int("BENCH_SWEEP_DUE", 10_000)
    notifications: int = env_int("BENCH_NOTIFICATIONS", 10_000)
    worker_concurrency: int = env_int("BENCH_WORKER_CONCURRENCY", 1)
    burst: int = env_int("BENCH_BURST", 1000)
    burst_seconds: int = env_int("BENCH_BURST_SECONDS", 60)
    only: tuple[str, ...] = tuple(
        p.strip()
        for p in os.environ.get("BENCH_ONLY", "http,burst,sweep,notifications,screening").split(",")
        if p.strip()
    )
    screening_entries: int = env_int("BENCH_SCREENING_ENTRIES", 100_000)
    screening_open: int = env_int("BENCH_SCREENING_OPEN", 10_000)
    floor: Path = Path(
        os.environ.get("BENCH_FLOOR") or ROOT.parent / "shared" / "bench" / "floor.py"
    )
    read_set: int = env_int("BENCH_READ_SET", 500)
    writes_per_s: float = float(os.environ.get("BENCH_WRITES_PER_S") or 2)
    reviewer_every: float = float(os.environ.get("BENCH_REVIEWER_EVERY") or 5)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))


CONFIG = Config()

# Targets: (comparison, value), judged in `verdict`.
TARGETS = {
    "queue": (">=", 0.5),
    "detail_page": (">=", 0.5),
    "detail_api": (">=", 0.5),
    "queue_first": (">=", 0.2),
    "detail_page_first": (">=", 0.2),
    "detail_api_first": (">=", 0.2),
    "create": (">=", 0.1),
    "submit": (">=", 0.1),
    "queue_queries": ("<=", 10),
    "sweep_ratio": ("<=", 1.3),
    "notifications_per_s": (">=", 500),
    "burst_p99_ms": ("<", 300),
    "burst_errors": ("<=", 0),
    "screening_p95_ms": ("<", 200),
}


def verdict(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    op, target = TARGETS[name]
    ok = {
        ">=": value >= target,
        "<=": value <= target,
        "<": value < target,
    }[op]
    return "PASS" if ok else "FAIL"


def target_text(name: str) -> str:
    op, target = TARGETS[name]
    return f"{op.replace('>=', '≥').replace('<=', '≤')} {target:g}"


STARTED = time.monotonic()
RUN_ID = secrets.token_hex(4)


def log(message: str) -> None:
    print(f"[bench +{time.monotonic() - STARTED:4.0f}s] {message}", flush=True)


# The environment every Django process of the run shares


def django_env(schema: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": CONFIG.secret_key,
        # The seeded trail is kept between runs: one key for the bench database.
        "AUDIT_HMAC_KEY": "bench-audit-key-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DB_CONN_MAX_AGE": "60",
        "DATABASE_URL": CONFIG.database_url,
        "REDIS_URL": CONFIG.redis_url,
        "VAR_DIR": str(OUT / "var"),
        "STATIC_ROOT": str(OUT / "static"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        # Part of every kept page's key: nothing a previous run kept is found by this one.
        "RELEASE": f"bench-{RUN_ID}",
    }
    env.pop("BENCH_DB_SCHEMA", None)
    if schema:
        env["BENCH_DB_SCHEMA"] = schema
    return env


def manage(*args: str, schema: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=django_env(schema), check=True
    )


def setup_django(schema: str | None = None) -> None:
    os.environ.update(django_env(schema))
    import django

    django.setup()


# The database


def admin_url() -> str:
    parts = urlsplit(CONFIG.database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name() -> str:
    return urlsplit(CONFIG.database_url).path.lstrip("/")


def seeded_size() -> int | None:
    import psycopg

    with psycopg.connect(CONFIG.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_marker (name text PRIMARY KEY, value text)")
        row = conn.execute("SELECT value FROM bench_marker WHERE name = 'seeded_size'").fetchone()
    return int(row[0]) if row else None


def ensure_database() -> None:
    import psycopg

    name = database_name()
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare_database() -> None:
    """Create and seed the bench database, unless it already holds BENCH_SIZE applications."""
    import psycopg

    name = database_name()
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    size = seeded_size()
    if size == CONFIG.size and not CONFIG.reseed:
        log(f"database {name} already seeded with {size} applications; reusing it")
        manage("migrate", "--noinput", "-v0")
    else:
        log(
            f"seeding {name} with {CONFIG.size} applications "
            f"({'BENCH_RESEED' if CONFIG.reseed else f'it held {size}'})"
        )
        with psycopg.connect(admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        manage("migrate", "--noinput", "-v0")
        started = time.monotonic()
        manage("seed_demo", "--applications", str(CONFIG.size))
        elapsed = time.monotonic() - started
        log(f"seeded in {elapsed:.0f}s ({CONFIG.size / elapsed:.0f} applications/s)")
        with psycopg.connect(CONFIG.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_marker (name text PRIMARY KEY, value text)"
            )
            seeded_max = conn.execute("SELECT coalesce(max(id), 0) FROM licensing_application")
            for name, value in [
                ("seeded_size", CONFIG.size),
                ("seeded_max_application_id", seeded_max.fetchone()[0]),
            ]:
                conn.execute(
                    "INSERT INTO bench_marker VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                    [name, str(value)],
                )
    remove_bench_applications()  # a run that was interrupted may have left some
    # Vacuumed, not only analysed: the rows the previous run removed would otherwise be
    # vacuumed by autovacuum in the middle of this run's measurements (seen: the queue
    # page at half its rate for one run).
    with psycopg.connect(CONFIG.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    manage("collectstatic", "--noinput", "-v0")


def remove_bench_applications() -> int:
    """Delete what the benchmarks created (every application after the seeded ones, and the
    rows referring to them), so each run measures the same data; the audit chain's head is
    set back to the last event kept."""
    import psycopg

    with psycopg.connect(CONFIG.database_url) as conn:
        row = conn.execute(
            "SELECT value FROM bench_marker WHERE name = 'seeded_max_application_id'"
        ).fetchone()
        if row is None:
            return 0
        # The benchmark rewinds its own rows, audit events included: the trail's guard
        # (licensing/audit_guard.py) is lifted for this superuser session only.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET CONSTRAINTS ALL DEFERRED")
        removed = _delete_tree(conn, "licensing_application", "id > %s", [int(row[0])], ())
        conn.execute(
            "UPDATE licensing_auditchainhead SET last_hash = coalesce("
            "(SELECT hash FROM licensing_auditevent ORDER BY id DESC LIMIT 1), '')"
        )
    if removed:
        log(f"removed {removed} applications a previous benchmark created")
    return removed


def _delete_tree(conn, table: str, where: str, params: list, path: tuple[str, ...]) -> int:
    """DELETE the rows of `table` matching `where`, and first every row referring to them
    through a foreign key (found in pg_constraint), recursively; a cycle is cut."""
    references = conn.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = %s::regclass
        """,
        [table],
    ).fetchall()
    for child, column in references:
        if child == table or child in path:
            continue
        _delete_tree(
            conn, child, f"{column} IN (SELECT id FROM {table} WHERE {where})", params,
            (*path, table),
        )  # fmt: skip
    return conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount


def prepare_aux_schema() -> None:
    """The schema the sweep and notification benchmarks fill with synthetic rows."""
    import psycopg

    with psycopg.connect(CONFIG.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {AUX_SCHEMA}")
    manage("migrate", "--noinput", "-v0", schema=AUX_SCHEMA)
    manage("seed_demo", schema=AUX_SCHEMA)


# Processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(process: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Gunicorn:
    """The project served by gunicorn as deployed (deploy/gunicorn.conf.py); `env` adds to
    or overrides the run's Django environment (a second server with PAGE_CACHE_SECONDS=0)."""

    health = "/healthz"

    def __init__(self, name: str = "gunicorn", env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = OUT / f"{name}.log"
        self.config = ROOT / "deploy" / "gunicorn.conf.py"
        self.extra_env = env or {}

    def command(self) -> list[str]:
        command = [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--chdir", str(ROOT),
            "--bind", f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        if self.config.exists():
            return [*command, "--config", str(self.config)]
        return [*command, "--workers", "2", "--threads", "4", "--worker-class", "gthread"]

    def env(self) -> dict[str, str]:
        return {**django_env(), **self.extra_env}

    def shape(self) -> tuple[int, int, str]:
        """The workers, threads and worker class this server runs with: what its
        configuration file computes in the server's environment (gunicorn's defaults for
        what it leaves out)."""
        if not self.config.exists():
            return 2, 4, "gthread"
        code = (
            "import json, runpy, sys; c = runpy.run_path(sys.argv[1]); "
            "print(json.dumps([c.get('workers', 1), c.get('threads', 1), "
            "c.get('worker_class', 'sync')]))"
        )
        completed = subprocess.run(
            [sys.executable, "-c", code, str(self.config)],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        workers, threads, worker_class = json.loads(completed.stdout.strip().splitlines()[-1])
        return int(workers), int(threads), str(worker_class)

    def describe(self) -> str:
        if self.config.exists():
            return f"gunicorn, {self.config.relative_to(ROOT)}"
        return "gunicorn --workers 2 --threads 4"

    def start(self) -> None:
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                status, _, _ = request_once(self.port, "GET", self.health)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {self.health} within 60s; see {self.log}")

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        master = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (after the parenthesised command name) is the parent pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
        return pids

    def peak_memory_mb(self) -> tuple[float, int]:
        """The workers' peak resident memory (VmHWM), summed, in MiB; and how many workers."""
        total_kb = 0
        workers = self.workers()
        for pid in workers:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        return total_kb / 1024, len(workers)

    def stop(self) -> None:
        stop_group(self.process)
        self.process = None


class FloorServer(Gunicorn):
    """The floor (CONFIG.floor, ../shared/bench/floor.py): bare Django and DRF, no
    middleware, one primary-key query at /drfdb; served by gunicorn with the workers,
    threads and worker class of the project's server, against the bench database, as the
    file's docstring says."""

    health = "/drfdb"

    def __init__(self, workers: int, threads: int, worker_class: str) -> None:
        super().__init__("floor")
        self.workers_count, self.threads, self.worker_class = workers, threads, worker_class

    def command(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            f"{CONFIG.floor.stem}:application",
            "--chdir", str(CONFIG.floor.parent),
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers_count),
            "--threads", str(self.threads),
            "--worker-class", self.worker_class,
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        parts = urlsplit(CONFIG.database_url)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "FLOOR_DB": database_name(),
            "FLOOR_USER": parts.username or "postgres",
            "FLOOR_HOST": parts.hostname or "127.0.0.1",
            "FLOOR_PORT": str(parts.port or 5432),
        }
        if parts.password:
            env["PGPASSWORD"] = parts.password  # floor.py names no password; libpq reads it
        return env

    def describe(self) -> str:
        try:
            where = CONFIG.floor.relative_to(ROOT.parent)
            where = f"../{where}"
        except ValueError:
            where = str(CONFIG.floor)
        return (
            f"{where} GET /drfdb, gunicorn -w {self.workers_count} --threads {self.threads} "
            f"-k {self.worker_class}"
        )


_local = threading.local()


def request_once(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, float]:
    """One request over this thread's keep-alive connection: status, body, seconds taken.

    A connection idle for longer than gunicorn's keep-alive (2 s by default) may
    have been closed by the server, so it is replaced before use.
    """
    conn = getattr(_local, "conn", None)
    idle = time.monotonic() - getattr(_local, "used", 0.0)
    if conn is None or getattr(_local, "port", None) != port or idle > 1.0:
        if conn is not None:
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _local.conn, _local.port = conn, port
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        _local.conn = None
        raise
    finally:
        _local.used = time.monotonic()
    return response.status, data, time.perf_counter() - started


# wrk


@dataclass
class Result:
    name: str
    label: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    queries: int | None = None
    queries_note: str = ""
    errors: int = 0
    requests: int = 0
    note: str = ""
    error: str = ""


def run_wrk(
    name: str,
    base_url: str,
    paths: list[str],
    *,
    method: str = "GET",
    body: bytes | None = None,
    mode: str = "cycle",
    headers: tuple[str, ...] = (),
    duration: int | None = None,
) -> dict:
    duration = duration or CONFIG.duration
    paths_file = OUT / f"paths-{name}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    body_arg = "-"
    if body is not None:
        body_file = OUT / f"body-{name}.json"
        body_file.write_bytes(body)
        body_arg = str(body_file)
    command = [
        "wrk",
        "-t", str(CONFIG.threads),
        "-c", str(CONFIG.connections),
        "-d", f"{duration}s",
        "--timeout", "10s",
        "--latency",
        "-s", str(LUA),
        base_url,
        "--", str(paths_file), method, body_arg, mode, str(CONFIG.threads), *headers,
    ]  # fmt: skip
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    (OUT / f"wrk-{name}.txt").write_text(completed.stdout + completed.stderr)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            stats = json.loads(line.removeprefix("BENCH_JSON "))
            stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
            return stats
    raise RuntimeError(
        f"wrk printed no result: {completed.stdout[-500:]} {completed.stderr[-500:]}"
    )


def fill(result: Result, stats: dict) -> Result:
    result.rps = stats["rps"]
    result.p50_ms = stats["p50_us"] / 1000
    result.p99_ms = stats["p99_us"] / 1000
    result.requests = stats["requests"]
    result.errors = stats["non2xx"] + stats["socket_errors"] + stats["timeouts"]
    return result


# The HTTP benchmarks


def draft_body(rng: random.Random) -> bytes:
    """A complete two-good dual-use draft, as an exporter's script would post it."""
    return json.dumps(
        {
            "license_type": "dual_use_export",
            "destination": "DE",
            "end_user": {
                "name": f"Bench End User {rng.randint(1, 999)}",
                "address": "Hansastrasse 27c, Munich",
                "country": "DE",
                "type": "research",
            },
            "consignee": None,
            "end_use": "Thermal imaging research on civilian infrastructure.",
            "military_end_use": False,
            "currency": "USD",
            "goods": [
                {
                    "description": "Miniature cryogenic cooler",
                    "control_list_entry": "6A003",
                    "quantity": 10,
                    "unit_value": "1500.00",
                    "technology_generation": "previous",
                },
                {
                    "description": "Infrared focal plane array",
                    "control_list_entry": "6A002",
                    "quantity": 4,
                    "unit_value": "22000.00",
                    "technology_generation": "legacy",
                },
            ],
        }
    ).encode()


class Fixtures:
    """Who asks, with which credentials, for which rows; and the in-process query counts."""

    def __init__(self) -> None:
        from django.conf import settings
        from django.test import Client

        from accounts.models import User
        from accounts.tokens import issue_token
        from licensing.models import Review
        from licensing.selectors import applications_visible_to

        self.reviewer = User.objects.get(username=REVIEWER)
        self.exporter = User.objects.get(username=EXPORTER)
        self.exporter_token = issue_token(self.exporter)[1]
        self.reviewer_token = issue_token(self.reviewer)[1]
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(self.reviewer)
        self.session = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        visible = list(applications_visible_to(self.reviewer).values_list("pk", flat=True))
        if not visible:
            raise RuntimeError(f"{REVIEWER} sees no applications: is the database seeded?")
        rng = random.Random(2026)
        # The read set: CONFIG.read_set cases the reviewer sees, a fifth of them (at most)
        # with a review of the reviewer's ministry waiting to be claimed, for the
        # reviewer's actions during the reads.
        claimable = sorted(
            set(
                Review.objects.filter(
                    application_id__in=visible, ministry=self.reviewer.ministry,
                    status="pending", application__status="under_review",
                ).values_list("application_id", flat=True)
            )
        )  # fmt: skip
        size = min(CONFIG.read_set, len(visible))
        chosen = rng.sample(claimable, k=min(size // 5, len(claimable)))
        taken = set(chosen)
        rest = [pk for pk in visible if pk not in taken]
        self.read_ids = chosen + rng.sample(rest, k=size - len(chosen))
        rng.shuffle(self.read_ids)
        self.body = draft_body(rng)

    @property
    def session_header(self) -> str:
        from django.conf import settings

        return f"Cookie: {settings.SESSION_COOKIE_NAME}={self.session}"

    def api_headers(self, token: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Token {token}"}

    def count(self, call, *, kept: bool = False) -> tuple[int, int]:
        """Queries and status of one request; called twice, counted the second time (the
        session and reference data cached), with the page cache off unless `kept`."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext, override_settings

        with override_settings(**({} if kept else {"PAGE_CACHE_SECONDS": 0})):
            call()
            with CaptureQueriesContext(connection) as queries:
                response = call()
        return len(queries), response.status_code

    def new_draft(self) -> int:
        response = self.client.post(
            "/api/v1/applications/",
            data=self.body,
            content_type="application/json",
            **self.api_headers(self.exporter_token),
        )
        assert response.status_code == 201, response.content[:500]
        return response.json()["id"]


def drafts_since(exporter, after_id: int) -> list[int]:
    from licensing.models import Application, ApplicationStatus

    return list(
        Application.objects.filter(
            created_by=exporter, status=ApplicationStatus.DRAFT, pk__gt=after_id
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def make_drafts(port: int, token: str, body: bytes, count: int) -> int:
    """`count` more drafts through the API, 8 at a time; how many were created."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def one(_):
        try:
            status, _, _ = request_once(port, "POST", "/api/v1/applications/", body, headers)
        except (OSError, http.client.HTTPException):
            return False
        return status == 201

    with ThreadPoolExecutor(max_workers=CONFIG.connections) as pool:
        return sum(pool.map(one, range(count)))


def read_each(port: int, paths: list[str], headers: dict) -> int:
    """Each path read once, over CONFIG.connections keep-alive connections (a warm-up: wrk
    would wait out its whole duration); how many answered 200."""

    def one(path: str) -> bool:
        try:
            return request_once(port, "GET", path, None, headers)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    with ThreadPoolExecutor(max_workers=CONFIG.connections) as pool:
        return sum(pool.map(one, paths))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Writers:
    """The writes the reads are measured under, open loop, through the API of `port`:

    - WRITER, an exporter of another organisation, creating a two-good draft and editing
      one of its drafts, in turn, CONFIG.writes_per_s writes a second in all;
    - the reviewer claiming the next of `reviews` (pending reviews of cases in the read
      set) every CONFIG.reviewer_every seconds, which renews that case's kept pages and
      the ministry's queue.

    The drafts are removed with the run's other applications; the claims are rewound by
    `rewind_claims`.
    """

    def __init__(self, port: int, writer_token: str, body: bytes, reviewer_token: str,
                 reviews: list[int]) -> None:  # fmt: skip
        self.port = port
        self.writer_headers = {
            "Authorization": f"Token {writer_token}", "Content-Type": "application/json",
        }  # fmt: skip
        self.reviewer_headers = {"Authorization": f"Token {reviewer_token}"}
        self.body = body
        self.reviews = list(reviews)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.writes: list[tuple[str, float, str]] = []  # kind, seconds, problem
        self.claims: list[tuple[int, float, str]] = []  # review, seconds, problem
        self.drafts: list[int] = []
        self.started = self.stopped = 0.0

    def start(self) -> None:
        self.stopping.clear()
        self.started = time.perf_counter()
        for target in (self._write, self._review):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.threads = []
        self.stopped = time.perf_counter()

    def _call(self, method: str, path: str, body: bytes | None, headers: dict,
              expected: int) -> tuple[float, str, bytes]:  # fmt: skip
        started = time.perf_counter()
        try:
            status, data, _ = request_once(self.port, method, path, body, headers)
            problem = "" if status == expected else f"{status} {data[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            data, problem = b"", f"{type(exc).__name__}: {exc}"
        return time.perf_counter() - started, problem, data

    def _write(self) -> None:
        rng = random.Random(5)
        interval = 1 / CONFIG.writes_per_s
        due = time.perf_counter() + interval
        n = 0
        while not self.stopping.wait(max(0.0, due - time.perf_counter())):
            if n % 2 == 0 or not self.drafts:
                kind = "create"
                seconds, problem, data = self._call(
                    "POST", "/api/v1/applications/", self.body, self.writer_headers, 201
                )
                if not problem:
                    self.drafts.append(json.loads(data)["id"])
            else:
                kind = "edit"
                pk = rng.choice(self.drafts[-50:])
                edit = json.dumps({"end_use": f"Thermal imaging research, revision {n}."})
                seconds, problem, _ = self._call(
                    "PATCH", f"/api/v1/applications/{pk}/", edit.encode(),
                    self.writer_headers, 200,
                )  # fmt: skip
            with self.lock:
                self.writes.append((kind, seconds, problem))
            n += 1
            due += interval

    def _review(self) -> None:
        pending = iter(self.reviews)
        while not self.stopping.wait(CONFIG.reviewer_every):
            review = next(pending, None)
            if review is None:
                return
            seconds, problem, _ = self._call(
                "POST", f"/api/v1/reviews/{review}/claim/", None, self.reviewer_headers, 200
            )
            with self.lock:
                self.claims.append((review, seconds, problem))

    def report(self) -> dict:
        with self.lock:
            writes, claims = list(self.writes), list(self.claims)
        seconds = (self.stopped or time.perf_counter()) - self.started
        problems = [p for _, _, p in writes + claims if p]
        if problems:
            (OUT / "writer-errors.txt").write_text("\n".join(problems))
        latencies = [t for _, t, _ in writes] or [0.0]
        return {
            "seconds": seconds,
            "creates": sum(1 for k, _, _ in writes if k == "create"),
            "edits": sum(1 for k, _, _ in writes if k == "edit"),
            "writes_per_s": len(writes) / seconds if seconds else None,
            "write_p50_ms": percentile(latencies, 50) * 1000,
            "write_p99_ms": percentile(latencies, 99) * 1000,
            "write_errors": sum(1 for _, _, p in writes if p),
            "claims": len(claims),
            "claim_p50_ms": percentile([t for _, t, _ in claims] or [0.0], 50) * 1000,
            "claim_errors": sum(1 for _, _, p in claims if p),
            "reviews_left": len(self.reviews) - len(claims),
        }


def audit_marker() -> int:
    from licensing.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def rewind_claims(after_event: int) -> int:
    """Put back the reviews the run's reviewer claimed on seeded cases (pending, no one
    assigned) and remove the events that recorded it, so the next run reads the same data;
    `remove_bench_applications` then sets the audit chain's head back."""
    import psycopg

    with psycopg.connect(CONFIG.database_url) as conn:
        conn.execute("SET session_replication_role = replica")  # see remove_bench_...
        rows = conn.execute(
            "DELETE FROM licensing_auditevent WHERE id > %s AND action = 'review_claimed' "
            "RETURNING (data->>'review')::bigint",
            [after_event],
        ).fetchall()
        reviews = [r[0] for r in rows if r[0] is not None]
        if reviews:
            conn.execute(
                "UPDATE licensing_review SET status = 'pending', assigned_to_id = NULL "
                "WHERE id = ANY(%s)",
                [reviews],
            )
    if reviews:
        log(f"rewound {len(reviews)} reviews the reviewer claimed")
    return len(reviews)


def http_benchmarks(results: dict, extra: dict) -> None:
    from django.db.models import Max, Min

    from accounts.models import User
    from accounts.tokens import issue_token
    from licensing.models import Application, Review

    fixtures = Fixtures()
    gunicorn = Gunicorn()
    workers, threads, worker_class = gunicorn.shape()
    floor_server = FloorServer(workers, threads, worker_class)
    uncached = Gunicorn("gunicorn-uncached", {"PAGE_CACHE_SECONDS": "0"})
    extra["server"] = gunicorn.describe()
    extra["floor_server"] = floor_server.describe()
    writers: Writers | None = None
    marker = audit_marker()
    try:
        log(f"starting {gunicorn.describe()} on {gunicorn.url} ({workers} workers, "
            f"{threads} threads, {worker_class})")  # fmt: skip
        gunicorn.start()
        running = len(gunicorn.workers())
        if running != workers:
            log(f"warning: the project's gunicorn runs {running} workers, not {workers}")
        log(f"starting the floor: {floor_server.describe()} on {floor_server.url}")
        floor_server.start()

        ids = fixtures.read_ids
        session = (fixtures.session_header,)
        exporter_auth = (f"Authorization: Token {fixtures.exporter_token}",)
        reviewer_auth = (f"Authorization: Token {fixtures.reviewer_token}",)
        page_paths = [f"/applications/{pk}/" for pk in ids]
        api_paths = [f"/api/v1/applications/{pk}/" for pk in ids]
        client = fixtures.client
        api = fixtures.api_headers(fixtures.reviewer_token)

        # Queries per request, in-process against the same database.
        log("counting queries per request (in-process test client)")
        floor = Result("floor", "floor: bare Django+DRF, GET /drfdb (one primary-key query)")
        floor.queries = 1
        queue = Result("queue", f"queue page / ({REVIEWER} reviewer, 50 rows), under writes")
        first_page, status = fixtures.count(lambda: client.get("/"))
        assert status == 200, f"queue page answered {status}"
        last_page, _ = fixtures.count(lambda: client.get("/?page=999999999"))
        kept_queue, _ = fixtures.count(lambda: client.get("/"), kept=True)
        queue.queries = max(first_page, last_page)
        queue.queries_note = (
            f"rendered: page 1: {first_page}, last page: {last_page}; kept: {kept_queue}"
        )
        page = Result(
            "detail_page",
            f"case page /applications/<id>/ (reviewer, {len(ids)} cases), under writes",
        )
        page_counts = [fixtures.count(lambda p=p: client.get(p))[0] for p in page_paths[:20]]
        kept_page, _ = fixtures.count(lambda: client.get(page_paths[0]), kept=True)
        page.queries = max(page_counts)
        page.queries_note = (
            f"rendered: max of 20 applications (min {min(page_counts)}); kept: {kept_page}"
        )
        detail = Result(
            "detail_api",
            f"GET /api/v1/applications/<id>/ (reviewer token, {len(ids)} cases), under writes",
        )
        api_counts = [fixtures.count(lambda p=p: client.get(p, **api))[0] for p in api_paths[:20]]
        kept_api, _ = fixtures.count(lambda: client.get(api_paths[0], **api), kept=True)
        detail.queries = max(api_counts)
        detail.queries_note = (
            f"rendered: max of 20 applications (min {min(api_counts)}); kept: {kept_api}"
        )
        create = Result("create", "POST /api/v1/applications/ (two goods, token), under writes")
        create.queries, status = fixtures.count(lambda: client.post(
            "/api/v1/applications/", data=fixtures.body, content_type="application/json",
            **fixtures.api_headers(fixtures.exporter_token),
        ))  # fmt: skip
        assert status == 201, f"create answered {status}"
        submit = Result("submit", "POST /api/v1/applications/<id>/submit/ (token), under writes")
        to_submit = iter([fixtures.new_draft(), fixtures.new_draft()])
        submit.queries, status = fixtures.count(lambda: client.post(
            f"/api/v1/applications/{next(to_submit)}/submit/",
            **fixtures.api_headers(fixtures.exporter_token),
        ))  # fmt: skip
        assert status == 200, f"submit answered {status}"

        # The floor, with nothing else running.
        run_wrk("warm-floor", floor_server.url, ["/drfdb"], duration=2)
        log(f"wrk {CONFIG.duration}s: {floor.label}")
        results["floor"] = fill(floor, run_wrk("floor", floor_server.url, ["/drfdb"]))

        # Everything from here on runs under the writes.
        writer = User.objects.get(username=WRITER)
        claimable = list(
            Review.objects.filter(
                application_id__in=ids, ministry=fixtures.reviewer.ministry, status="pending",
                application__status="under_review",
            ).order_by("?").values_list("pk", flat=True)
        )  # fmt: skip
        writers = Writers(gunicorn.port, issue_token(writer)[1], draft_body(random.Random(9)),
                          fixtures.reviewer_token, claimable)  # fmt: skip
        log(
            f"writes start: {WRITER} creating and editing drafts ({CONFIG.writes_per_s:g}/s), "
            f"{REVIEWER} claiming a review in the read set every {CONFIG.reviewer_every:g}s "
            f"({len(claimable)} claimable)"
        )
        writers.start()

        # Each person's reads cycle over the read set; the first pass renders and keeps
        # each page, then reads find them kept until a write renews them.
        log(f"warming up: each of the {len(ids)} cases read once (page and API), the queue")
        cookie = {"Cookie": fixtures.session_header.removeprefix("Cookie: ")}
        token = {"Authorization": f"Token {fixtures.reviewer_token}"}
        for paths, headers in [(page_paths, cookie), (api_paths, token)]:
            answered = read_each(gunicorn.port, paths, headers)
            if answered != len(paths):
                log(f"warning: {len(paths) - answered} of {len(paths)} warm-up reads failed")
        run_wrk("warm-queue", gunicorn.url, ["/"], headers=session, duration=2)
        for result, paths, headers in [
            (queue, ["/"], session),
            (page, page_paths, session),
            (detail, api_paths, reviewer_auth),
        ]:
            log(f"wrk {CONFIG.duration}s: {result.label}")
            results[result.name] = fill(result, run_wrk(result.name, gunicorn.url, paths,
                                                        headers=headers))  # fmt: skip

        # The same reads rendered from the database every time: the project served again,
        # as deployed, with PAGE_CACHE_SECONDS=0 (the writes still go to the first).
        log(f"starting a second server with PAGE_CACHE_SECONDS=0 on {uncached.url}")
        uncached.start()
        # Each new process renders its first pages slowly (templates compiled, reference
        # data read): warm all three before measuring.
        for name, paths, headers in [
            ("warm-uncached-queue", ["/"], session),
            ("warm-uncached-page", page_paths, session),
            ("warm-uncached-api", api_paths, reviewer_auth),
        ]:
            run_wrk(name, uncached.url, paths, headers=headers,
                    duration=max(3, CONFIG.duration // 3))  # fmt: skip
        for result, paths, headers, counted in [
            (Result("queue_first", "queue page /, rendered from the database"),
             ["/"], session, queue),
            (Result("detail_page_first", "case page, rendered from the database"),
             page_paths, session, page),
            (Result("detail_api_first", "GET /api/v1/applications/<id>/, rendered from the "
                    "database"), api_paths, reviewer_auth, detail),
        ]:  # fmt: skip
            log(f"wrk {CONFIG.duration}s: {result.label}")
            results[result.name] = fill(result, run_wrk(result.name, uncached.url, paths,
                                                        headers=headers))  # fmt: skip
            result.queries = counted.queries
            result.note = (
                f"PAGE_CACHE_SECONDS=0, cycling over {len(paths):,} "
                f"{'path' if len(paths) == 1 else 'cases'}, under writes"
            )
        uncached.stop()

        before = Application.objects.aggregate(m=Max("pk"))["m"] or 0
        log(f"wrk {CONFIG.duration}s: {create.label}")
        results["create"] = fill(
            create,
            run_wrk(
                "create", gunicorn.url, ["/api/v1/applications/"], method="POST",
                body=fixtures.body, headers=(*exporter_auth, "Content-Type: application/json"),
            ),
        )  # fmt: skip

        # Fresh drafts for submit (each submitted once) and for the burst: those the create
        # benchmark made, topped up through the API to twice what create managed in as long.
        pool = drafts_since(fixtures.exporter, before)
        wanted_submit = max(1000, int(2 * (create.rps or 0) * CONFIG.duration))
        wanted = wanted_submit + CONFIG.burst + 10
        if len(pool) < wanted:
            log(f"creating {wanted - len(pool)} more drafts for submit and the burst")
            make_drafts(gunicorn.port, fixtures.exporter_token, fixtures.body, wanted - len(pool))
            pool = drafts_since(fixtures.exporter, before)
        warm, burst_ids, submit_ids = (
            pool[:10],
            pool[10 : 10 + CONFIG.burst],
            pool[10 + CONFIG.burst :],
        )
        submit_headers = {"Authorization": f"Token {fixtures.exporter_token}"}
        for pk in warm:
            request_once(gunicorn.port, "POST", f"/api/v1/applications/{pk}/submit/", None,
                         submit_headers)  # fmt: skip
        log(f"wrk {CONFIG.duration}s: {submit.label} ({len(submit_ids)} fresh drafts)")
        stats = run_wrk(
            "submit", gunicorn.url, [f"/api/v1/applications/{pk}/submit/" for pk in submit_ids],
            method="POST", mode="once", headers=exporter_auth,
        )  # fmt: skip
        fill(submit, stats)
        if stats["exhausted_threads"]:
            # The drafts ran out before the time did: the rate is over the time they lasted.
            times = Application.objects.filter(pk__in=submit_ids, submitted_at__isnull=False)
            span = times.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
            seconds = (span["last"] - span["first"]).total_seconds()
            submit.rps = times.count() / seconds if seconds else None
            submit.note = f"all {len(submit_ids)} drafts submitted in {seconds:.1f}s"
        results["submit"] = submit

        if "burst" in CONFIG.only:
            results["burst"] = burst(gunicorn.port, burst_ids, submit_headers)

        writers.stop()
        extra["writes"] = writers.report()
        extra["memory_mb"], extra["workers"] = gunicorn.peak_memory_mb()

        # The floor again, with the writes stopped: the ratios are to the faster of the two.
        log(f"wrk {CONFIG.duration}s: {floor.label} (again)")
        again = run_wrk("floor-again", floor_server.url, ["/drfdb"])
        first_rps = floor.rps or 0
        if again["rps"] > first_rps:
            fill(floor, again)
        floor.note = (
            f"{floor_server.describe()}; the faster of two runs with nothing else running, "
            f"before and after the rest ({first_rps:,.0f} and {again['rps']:,.0f})"
        )
    finally:
        if writers is not None:
            writers.stop()
            extra.setdefault("writes", writers.report())
        uncached.stop()
        floor_server.stop()
        gunicorn.stop()
        purge_queue()
        rewind_claims(marker)
        remove_bench_applications()


def burst(port: int, ids: list[int], headers: dict) -> dict:
    """`len(ids)` submissions spread evenly over BENCH_BURST_SECONDS, open loop.

    Each latency is measured from the moment its request was due, so a server
    falling behind shows in the numbers instead of slowing the sender.
    """
    count, seconds = len(ids), CONFIG.burst_seconds
    log(f"burst: {count} submissions over {seconds}s")
    interval = seconds / count
    start = time.perf_counter() + 0.5
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(i_pk: tuple[int, int]) -> None:
        i, pk = i_pk
        due = start + i * interval
        time.sleep(max(0.0, due - time.perf_counter()))
        try:
            status, body, _ = request_once(
                port, "POST", f"/api/v1/applications/{pk}/submit/", None, headers
            )
            problem = "" if status == 200 else f"{status} {body[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        finished = time.perf_counter()
        with lock:
            latencies.append(finished - due)
            if problem:
                errors.append(problem)

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, enumerate(ids)))
    elapsed = time.perf_counter() - start
    if errors:
        (OUT / "burst-errors.txt").write_text("\n".join(errors))
    return {
        "count": count,
        "seconds": elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "errors": len(errors),
    }


def purge_queue() -> None:
    """Drop the delivery messages the benchmarks' submissions left on the broker."""
    try:
        from config.celery import app

        app.control.purge()
    except Exception as exc:  # noqa: BLE001 - a measurement; say so and go on
        log(f"could not purge the Celery queue: {exc}")


# The background benchmarks: subprocesses working in the aux schema


def run_phase(phase: str) -> dict:
    """Run `tests/bench/run.py --phase PHASE` in the aux schema; its last BENCH_JSON line."""
    completed = subprocess.run(
        [sys.executable, str(Path(__file__)), "--phase", phase],
        cwd=ROOT,
        env=django_env(AUX_SCHEMA),
        capture_output=True,
        text=True,
        check=False,
    )
    (OUT / f"{phase}.log").write_text(completed.stdout + completed.stderr)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"{phase} failed; see {OUT / f'{phase}.log'}: {completed.stderr[-800:]}")


def phase_sweep() -> dict:
    """Time the deadline sweep over each of BENCH_SWEEP_SIZES open reviews, the same ones due."""
    from django.db import connection

    from licensing.clock import WorkingCalendar, local_today
    from licensing.services.deadlines import deadlines_sweep

    today = local_today()
    calendar = WorkingCalendar.load()
    loader = SyntheticReviews(today, calendar)
    loader.truncate()
    timings = []
    for size in sorted(CONFIG.sweep_sizes):
        loader.load_up_to(size, due=CONFIG.sweep_due)
        queries = 0

        def counting(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            started = time.perf_counter()
            report = deadlines_sweep(today=today)
            seconds = time.perf_counter() - started
        loader.undo_sweep()  # so the next size sweeps the same due reviews
        steps = sum(report.steps.values())
        print(f"{size} open reviews: {seconds:.2f}s, {steps} steps, {queries} queries", flush=True)
        timings.append(
            {"open": size, "seconds": seconds, "steps": steps, "queries": queries,
             "reminders": report.reminders}
        )  # fmt: skip
    loader.truncate()  # the rows are cheap to make again; the disk space is not
    return {"sweeps": timings}


class SyntheticReviews:
    """Open reviews inserted with COPY: `due` of them owing their first escalation step today
    (notify the supervisor: Defense and Economy), the rest due months ahead."""

    def __init__(self, today, calendar) -> None:
        from accounts.models import Organisation, User

        self.today = today
        self.calendar = calendar
        self.exporter = User.objects.get(username=EXPORTER)
        self.organisation = Organisation.objects.get(pk=self.exporter.organisation_id)
        self.open_reviews = 0
        self.next_application = 1
        self.rng = random.Random(7)

    def truncate(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # see remove_bench_...
            cursor.execute("TRUNCATE licensing_application RESTART IDENTITY CASCADE")
            cursor.execute("SET session_replication_role = DEFAULT")
        self.open_reviews = 0
        self.next_application = 1

    def undo_sweep(self) -> None:
        """Put back what a sweep did (a first step, notify the supervisor, on each due review:
        its counter, the outbox rows and their broker messages, the audit events)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE licensing_review SET escalation_level = 0 WHERE escalation_level > 0"
            )
            cursor.execute("SET session_replication_role = replica")  # the trail's guard
            cursor.execute("TRUNCATE licensing_notification, licensing_auditevent")
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("UPDATE licensing_auditchainhead SET last_hash = ''")
            cursor.execute("VACUUM ANALYZE licensing_review")
        purge_queue()

    def load_up_to(self, size: int, *, due: int) -> None:
        from django.db import connection

        started = time.perf_counter()
        applications: list[int] = []
        reviews: list[tuple[int, str, object, object, bool]] = []
        received = self.calendar.subtract_working_days(self.today, 30)
        if self.open_reviews == 0:
            overdue = [self.calendar.subtract_working_days(self.today, d) for d in (1, 2, 3)]
            for i in range(due // 2):
                pk = self._application(applications)
                for ministry in ("defense", "economy"):
                    reviews.append((pk, ministry, received, overdue[i % 3], True))
        while self.open_reviews + len(reviews) < size:
            pk = self._application(applications)
            for ministry in ("defense", "economy", "foreign"):
                if self.open_reviews + len(reviews) >= size:
                    break
                ahead = self.today.toordinal() + self.rng.randint(60, 400)
                reviews.append((pk, ministry, received, type(self.today).fromordinal(ahead), False))
        self._copy_applications(applications)
        self._copy_reviews(reviews)
        self.open_reviews += len(reviews)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('licensing_application', 'id'), %s)",
                [self.next_application - 1],
            )
            cursor.execute("VACUUM ANALYZE licensing_application")
            cursor.execute("VACUUM ANALYZE licensing_review")
        print(
            f"loaded {len(reviews)} reviews on {len(applications)} applications "
            f"({self.open_reviews} open) in {time.perf_counter() - started:.1f}s",
            flush=True,
        )

    def _application(self, applications: list[int]) -> int:
        pk = self.next_application
        self.next_application += 1
        applications.append(pk)
        return pk

    def _copy(self, model, fixed: dict, varying: list[str], rows) -> None:
        """COPY rows of `model`: every concrete column, `fixed` ones the same in each row."""
        from django.db import connection

        # The primary key only when the rows name it; otherwise the database numbers them.
        fields = [
            f for f in model._meta.concrete_fields if not f.primary_key or f.attname in varying
        ]
        template = []
        for f in fields:
            value = fixed.get(f.attname, f.get_default())
            template.append(f.get_db_prep_save(value, connection))
        slots = [[f.attname for f in fields].index(name) for name in varying]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
                row = list(template)
                for values in rows:
                    for slot, value in zip(slots, values, strict=True):
                        row[slot] = value
                    copy.write_row(row)

    def _copy_applications(self, ids: list[int]) -> None:
        from django.utils import timezone

        from licensing.models import Application, ApplicationStatus

        now = timezone.now()
        self._copy(
            Application,
            {
                "organisation_id": self.organisation.pk,
                "created_by_id": self.exporter.pk,
                "license_type": "dual_use_export",
                "destination_id": "DE",
                "end_user_name": "Bench End User",
                "end_user_address": "1 Bench Street",
                "end_user_country_id": "DE",
                "end_user_type": "commercial",
                "end_use": "Synthetic load.",
                "status": ApplicationStatus.UNDER_REVIEW,
                "created_at": now,
                "updated_at": now,
                "submitted_at": now,
            },
            ["id", "reference"],
            ((pk, f"BENCH-{pk:09d}") for pk in ids),
        )

    def _copy_open_applications(self, ids: list[int], end_users: list[str]) -> None:
        """Open applications with these end users (for re-screening), nothing else."""
        from django.utils import timezone

        from licensing.models import Application, ApplicationStatus

        now = timezone.now()
        self._copy(
            Application,
            {
                "organisation_id": self.organisation.pk,
                "created_by_id": self.exporter.pk,
                "license_type": "dual_use_export",
                "destination_id": "DE",
                "end_user_address": "1 Bench Street",
                "end_user_country_id": "DE",
                "end_user_type": "commercial",
                "end_use": "Synthetic load.",
                "status": ApplicationStatus.UNDER_REVIEW,
                "created_at": now,
                "updated_at": now,
                "submitted_at": now,
            },
            ["id", "reference", "end_user_name"],
            ((pk, f"BENCH-{pk:09d}", name[:200]) for pk, name in zip(ids, end_users, strict=True)),
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('licensing_application', 'id'), %s)",
                [max(ids)],
            )
            cursor.execute("VACUUM ANALYZE licensing_application")

    def _copy_reviews(self, reviews) -> None:
        from licensing.models import Review, ReviewStatus

        self._copy(
            Review,
            {"status": ReviewStatus.PENDING, "escalation_level": 0},
            ["application_id", "ministry", "received_on", "due_date", "reminder_sent"],
            reviews,
        )


# Screening: a party list against a large sanctions list, and a list change re-screening
# open cases.

# Fifty syllables make about 150,000 distinct two- and three-syllable words.
_SYLLABLES = [c + v for c in "kmrtzsvdgn" for v in ("a", "o", "ri", "el", "ur")]
_COMMON = ("Trading", "Industries", "Group", "Company", "Ltd", "LLC", "GmbH", "International")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _entity(rng: random.Random) -> str:
    words = [_word(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.7:
        words.append(rng.choice(_COMMON))
    return " ".join(words)


CORPUS = ROOT / "tests" / "data" / "screening_corpus.json"


def screening_quality() -> dict:
    """Recall and false positives on the corpus (tests/data/screening_corpus.json): its
    listed names imported as a list of their own, each variant and unrelated name screened
    against that list as a party in the country it comes with."""
    from django.conf import settings

    from licensing.models import ScreeningEntry
    from licensing.screening import Party, normalise, score_of, screen_many
    from licensing.services.screening import EntryRow, screening_list_import

    corpus = json.loads(CORPUS.read_text("utf-8"))
    threshold = settings.SCREENING_THRESHOLD
    rows = [
        EntryRow(line, e["name"], e["aliases"], e["country"], "")
        for line, e in enumerate(corpus["listed"], start=2)
    ]
    listed = screening_list_import(name="Bench corpus list", rows=rows)
    entries = {e.name: e for e in ScreeningEntry.objects.filter(list=listed)}
    variants, unrelated = corpus["variants"], corpus["unrelated"]
    started = time.perf_counter()
    found = screen_many(
        {
            i: [Party("end_user", p["name"], p["country"])]
            for i, p in enumerate(variants + unrelated)
        },
        list_ids=[listed.pk],
    )
    seconds = time.perf_counter() - started
    reaching = matched_reaching = matched = 0
    for i, variant in enumerate(variants):
        party = normalise(variant["name"])
        names = entries[variant["source"]].all_names
        hit = variant["source"] in {f.entry_name for f in found.get(i, ())}
        matched += hit
        if any(score_of(party, normalise(n)) >= threshold for n in names):
            reaching += 1
            matched_reaching += hit
    false_positives = sum(
        1 for i in range(len(variants), len(variants) + len(unrelated)) if found.get(i)
    )
    listed.delete()
    return {
        "threshold": threshold,
        "variants": len(variants),
        "variants_reaching": reaching,
        "recall_reaching": matched_reaching / reaching if reaching else None,
        "recall_all": matched / len(variants),
        "unrelated": len(unrelated),
        "false_positives": false_positives,
        "false_positive_rate": false_positives / len(unrelated),
        "seconds": seconds,
    }


def phase_screening() -> dict:
    """Screen 10 parties against BENCH_SCREENING_ENTRIES entries (p50, p95, queries); then
    re-screen BENCH_SCREENING_OPEN open applications against the list, in batches."""
    from django.db import connection

    from licensing.models import ScreeningList
    from licensing.screening import Party, forget_listed_names, screen
    from licensing.services.screening import (
        EntryRow,
        screening_list_import,
        screening_rescreen_list,
    )

    rng = random.Random(11)
    codes = ["DE", "FR", "CN", "RU", "AE", "TR", "IN", "HK", "PK", "BY", None, None]
    names = [_entity(rng) for _ in range(CONFIG.screening_entries)]
    bench_list = ScreeningList.objects.filter(name="Bench list").first()
    import_seconds = None
    if bench_list is None or bench_list.entries.count() != CONFIG.screening_entries:
        started = time.perf_counter()
        rows = [
            EntryRow(
                i + 2, name, [_entity(rng)] if rng.random() < 0.3 else [], rng.choice(codes), ""
            )
            for i, name in enumerate(names)
        ]
        bench_list = screening_list_import(name="Bench list", rows=rows)
        import_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE licensing_screeningname")
            cursor.execute("VACUUM ANALYZE licensing_screeningentry")
        print(f"imported {len(rows)} entries in {import_seconds:.1f}s", flush=True)
    # Ten parties: three listed names (one misspelt), seven made up.
    parties = [Party("end_user", names[10], "DE"), Party("consignee", names[20] + " Ltd", "FR")]
    misspelt = names[30][:-1] + "x" if len(names[30]) > 8 else names[30]
    parties.append(Party("third_party", misspelt, "CN"))
    parties += [Party("third_party", _entity(rng), rng.choice(codes[:10])) for _ in range(7)]
    # The first screening after a list change reads the list's names into memory.
    forget_listed_names()
    started = time.perf_counter()
    screen(parties)
    first_ms = (time.perf_counter() - started) * 1000
    print(f"first screening (the list's names read): {first_ms:.0f} ms", flush=True)
    timings, queries, found = [], 0, []
    for _ in range(30):

        def counting(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            started = time.perf_counter()
            found = screen(parties)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"screening 10 parties: p50 {percentile(timings, 50):.1f} ms, p95 "
          f"{percentile(timings, 95):.1f} ms, {len(found)} matches", flush=True)  # fmt: skip

    # A list change against open applications (synthetic, by COPY; most match nothing).
    loader = SyntheticReviews(None, None)
    loader.truncate()
    ids = list(range(1, CONFIG.screening_open + 1))
    party_names = [
        names[rng.randrange(len(names))] if rng.random() < 0.01 else _entity(random.Random(-i))
        for i in ids
    ]
    loader._copy_open_applications(ids, party_names)
    started = time.perf_counter()
    new = screening_rescreen_list(list_id=bench_list.pk)
    rescreen_seconds = time.perf_counter() - started
    print(f"re-screened {len(ids)} open applications in {rescreen_seconds:.1f}s: {new} new "
          "matches", flush=True)  # fmt: skip
    loader.undo_sweep()  # the audit events and notifications it wrote
    loader.truncate()
    quality = screening_quality()
    print(f"corpus: recall {quality['recall_reaching']:.1%} of {quality['variants_reaching']} "
          f"variants reaching {quality['threshold']}, {quality['false_positives']} of "
          f"{quality['unrelated']} unrelated names matched", flush=True)  # fmt: skip
    return {
        "quality": quality,
        "entries": CONFIG.screening_entries,
        "parties": len(parties),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "max_ms": timings[-1],
        "first_ms": first_ms,
        "import_seconds": import_seconds,
        "queries_per_screening": queries / 30,
        "matches": len(found),
        "rescreen_open": len(ids),
        "rescreen_seconds": rescreen_seconds,
        "rescreen_new_matches": new,
    }


def phase_notifications() -> dict:
    """One Celery worker on Redis delivering BENCH_NOTIFICATIONS outbox rows into aiosmtpd."""
    from django.db import connection

    from accounts.models import User
    from licensing.models import DeliveryStatus, Notification, NotificationEvent
    from licensing.notifications import enqueue_delivery
    from tests.harness import SmtpSink

    class TimedSink(SmtpSink):
        def record(self, key, recipients, message) -> None:
            super().record(key, recipients, message)
            now = time.perf_counter()
            self.first = getattr(self, "first", now)
            self.last = now

    count = CONFIG.notifications
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE licensing_notification RESTART IDENTITY")
    users = list(User.objects.exclude(email="").order_by("pk"))
    context = {"ministry": "economy", "due_date": "2026-01-04", "reference": "EXP-2026-000001",
               "reason": "The Economy review was due on 04 Jan 2026."}  # fmt: skip
    Notification.objects.bulk_create(
        [
            Notification(
                key=f"bench:{i}:{users[i % len(users)].pk}",
                recipient=users[i % len(users)],
                event=NotificationEvent.REVIEW_OVERDUE,
                subject="EXP-2026-000001: Economy review overdue",
                body="The Economy review of EXP-2026-000001 was due on 04 Jan 2026 and is overdue.",
                context=context,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    purge_queue()
    started = time.perf_counter()
    enqueue_delivery(ids)
    publish_seconds = time.perf_counter() - started
    print(f"published {len(ids)} messages in {publish_seconds:.1f}s", flush=True)

    sink = TimedSink()
    sink.start()
    worker_log = OUT / "worker.log"
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "LOG_LEVEL": "WARNING",
    }
    worker = None
    try:
        with worker_log.open("w") as out:
            worker = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    "--loglevel=WARNING", f"--concurrency={CONFIG.worker_concurrency}",
                    "--without-mingle", "--without-gossip", "--without-heartbeat",
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + max(600, count / 10)
        while len(sink.keys) < count and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited; see {worker_log}")
            time.sleep(0.05)
    finally:
        stop_group(worker)
        sink.stop()
        purge_queue()
    keys = sink.keys
    sent = Notification.objects.filter(delivery_status=DeliveryStatus.SENT).count()
    seconds = sink.last - sink.first if len(keys) > 1 else None
    return {
        "count": count,
        "received": len(keys),
        "duplicates": len(keys) - len(set(keys)),
        "sent_rows": sent,
        "seconds": seconds,
        "per_second": (len(keys) - 1) / seconds if seconds else None,
        "concurrency": CONFIG.worker_concurrency,
    }


# The report


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


# The request rows each ratio is taken for, in the order the table prints them.
MEASURED = (
    "queue",
    "detail_page",
    "detail_api",
    "queue_first",
    "detail_page_first",
    "detail_api_first",
    "create",
    "submit",
)


def table(results: dict, background: dict, extra: dict) -> str:
    lines = []
    lines.append(
        f"make bench: {CONFIG.size:,} seeded applications, wrk -t{CONFIG.threads} "
        f"-c{CONFIG.connections} -d{CONFIG.duration}s, {extra.get('server', 'gunicorn')}, "
        f"{os.cpu_count()} cores"
    )
    if "floor_server" in extra:
        lines.append("")
        lines.append(f"Every ratio is to the floor: {extra['floor_server']}, in this run.")
    writes = extra.get("writes")
    if writes:
        lines.append(
            f"Under writes: {WRITER} (another organisation) creating and editing drafts through "
            f"the API at {fmt(writes['writes_per_s'], 2)}/s ({writes['creates']} created, "
            f"{writes['edits']} edited, p50 {fmt(writes['write_p50_ms'], 0)} ms, p99 "
            f"{fmt(writes['write_p99_ms'], 0)} ms, {writes['write_errors']} errors) and "
            f"{REVIEWER} claiming a review of a case in the read set every "
            f"{CONFIG.reviewer_every:g}s ({writes['claims']} claims, p50 "
            f"{fmt(writes['claim_p50_ms'], 0)} ms, {writes['claim_errors']} errors"
            f"{'; ran out of reviews to claim' if writes['reviews_left'] <= 0 else ''}), "
            f"over {writes['seconds']:.0f}s."
        )
    lines.append("")
    lines.append(
        "| benchmark | req/s | × floor | target | p50 ms | p99 ms | queries/req | errors | result |"
    )
    lines.append("|---|---:|---:|---|---:|---:|---:|---:|---|")
    floor = results.get("floor")
    floor_rps = floor.rps if isinstance(floor, Result) else None
    for name in ("floor", *MEASURED):
        r = results.get(name)
        if not isinstance(r, Result):
            continue
        if r.error:
            lines.append(f"| {r.label} | ERROR: {r.error} | | | | | | | FAIL |")
            continue
        ratio = r.rps / floor_rps if (r.rps and floor_rps) else None
        target = target_text(name) if name in TARGETS else "-"
        result = verdict(name, ratio) if name in TARGETS else "-"
        queries = f"{r.queries}" if r.queries is not None else "-"
        lines.append(
            f"| {r.label} | {fmt(r.rps)} | {fmt(ratio, 2) if name != 'floor' else '1.00'} | "
            f"{target} | {fmt(r.p50_ms)} | {fmt(r.p99_ms)} | {queries} | {r.errors} | {result} |"
        )
    lines.append("")
    lines.append("| measurement | value | target | result |")
    lines.append("|---|---:|---|---|")
    queue = results.get("queue")
    if isinstance(queue, Result) and queue.queries is not None:
        lines.append(
            f"| queue page queries ({queue.queries_note}) | {queue.queries} | "
            f"{target_text('queue_queries')} | {verdict('queue_queries', queue.queries)} |"
        )
    if "memory_mb" in extra:
        lines.append(
            f"| web workers' peak memory (sum of VmHWM, {extra['workers']} workers) | "
            f"{extra['memory_mb']:,.0f} MiB | - | - |"
        )
    b = results.get("burst")
    if isinstance(b, dict):
        lines.append(
            f"| burst: {b['count']} submissions over {CONFIG.burst_seconds}s, p99 "
            f"(p50 {b['p50_ms']:.0f} ms, max {b['max_ms']:.0f} ms, done in {b['seconds']:.1f}s) | "
            f"{b['p99_ms']:.0f} ms | {target_text('burst_p99_ms')} ms | "
            f"{verdict('burst_p99_ms', b['p99_ms'])} |"
        )
        lines.append(
            f"| burst: errors | {b['errors']} | 0 | {verdict('burst_errors', b['errors'])} |"
        )
    elif isinstance(b, str):
        lines.append(f"| burst | ERROR: {b} | | FAIL |")
    sweep = background.get("sweep")
    if isinstance(sweep, dict):
        runs = sweep["sweeps"]
        for run in runs:
            lines.append(
                f"| deadline sweep, {run['open']:,} open reviews ({run['steps']:,} steps due, "
                f"{run['queries']:,} queries) | {run['seconds']:.2f} s | - | - |"
            )
        if len(runs) >= 2 and runs[0]["seconds"]:
            ratio = runs[-1]["seconds"] / runs[0]["seconds"]
            lines.append(
                f"| deadline sweep, {runs[-1]['open']:,} / {runs[0]['open']:,} open reviews | "
                f"{ratio:.2f}x | {target_text('sweep_ratio')}x | {verdict('sweep_ratio', ratio)} |"
            )
    elif isinstance(sweep, str):
        lines.append(f"| deadline sweep | ERROR: {sweep} | | FAIL |")
    notes = background.get("notifications")
    if isinstance(notes, dict):
        rate = notes["per_second"]
        lines.append(
            f"| notifications delivered per second (1 worker, concurrency "
            f"{notes['concurrency']}, {notes['received']:,}/{notes['count']:,} received, "
            f"{notes['duplicates']} duplicates) | {fmt(rate, 0)}/s | "
            f"{target_text('notifications_per_s')}/s | {verdict('notifications_per_s', rate)} |"
        )
    elif isinstance(notes, str):
        lines.append(f"| notifications | ERROR: {notes} | | FAIL |")
    screening = background.get("screening")
    if isinstance(screening, dict):
        p95 = screening["p95_ms"]
        lines.append(
            f"| screening {screening['parties']} parties against {screening['entries']:,} list "
            f"entries, p95 (p50 {fmt(screening['p50_ms'])} ms, "
            f"{fmt(screening['queries_per_screening'], 0)} query) | {fmt(p95)} ms | "
            f"{target_text('screening_p95_ms')} ms | {verdict('screening_p95_ms', p95)} |"
        )
        lines.append(
            f"| the first screening after a list change (its names read into memory) | "
            f"{fmt(screening['first_ms'])} ms | | |"
        )
        if screening.get("import_seconds") is not None:
            lines.append(
                f"| importing the {screening['entries']:,} entries | "
                f"{fmt(screening['import_seconds'])} s | | |"
            )
        lines.append(
            f"| re-screening {screening['rescreen_open']:,} open applications after a list "
            f"change ({screening['rescreen_new_matches']} new matches) | "
            f"{fmt(screening['rescreen_seconds'])} s | | |"
        )
        q = screening.get("quality")
        if q:
            lines.append(
                f"| screening quality: recall on the corpus variants scoring ≥ {q['threshold']} "
                f"against their listed name ({q['variants_reaching']} of {q['variants']}; "
                f"all variants: {q['recall_all']:.1%}) | {q['recall_reaching']:.1%} | 100% | "
                f"{'PASS' if q['recall_reaching'] == 1 else 'FAIL'} |"
            )
            lines.append(
                f"| screening quality: unrelated names matched (false positives, "
                f"{q['false_positives']} of {q['unrelated']}) | "
                f"{q['false_positive_rate']:.1%} | - | - |"
            )
    elif isinstance(screening, str):
        lines.append(f"| screening | ERROR: {screening} | | FAIL |")
    details = [
        f"- {r.label}: {r.queries_note or ''}{'; ' if r.queries_note and r.note else ''}{r.note}"
        for r in results.values()
        if isinstance(r, Result) and (r.queries_note or r.note)
    ]
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def summary(results: dict, background: dict) -> str:
    verdicts = []
    floor = results.get("floor")
    for name in MEASURED:
        r = results.get(name)
        if isinstance(r, Result) and isinstance(floor, Result) and r.rps and floor.rps:
            verdicts.append((r.label.split(" (")[0], verdict(name, r.rps / floor.rps)))
    queue = results.get("queue")
    if isinstance(queue, Result) and queue.queries is not None:
        verdicts.append(("queue queries", verdict("queue_queries", queue.queries)))
    b = results.get("burst")
    if isinstance(b, dict):
        verdicts.append(("burst p99", verdict("burst_p99_ms", b["p99_ms"])))
        verdicts.append(("burst errors", verdict("burst_errors", b["errors"])))
    sweep = background.get("sweep")
    if isinstance(sweep, dict) and len(sweep["sweeps"]) >= 2:
        runs = sweep["sweeps"]
        verdicts.append(
            ("sweep ratio", verdict("sweep_ratio", runs[-1]["seconds"] / runs[0]["seconds"]))
        )
    notes = background.get("notifications")
    if isinstance(notes, dict):
        verdicts.append(("notifications/s", verdict("notifications_per_s", notes["per_second"])))
    screening = background.get("screening")
    if isinstance(screening, dict) and screening.get("quality"):
        recall = screening["quality"]["recall_reaching"]
        verdicts.append(("screening recall", "PASS" if recall == 1 else "FAIL"))
    errors = [k for k, v in {**results, **background}.items() if isinstance(v, str)]
    errors += [k for k, v in results.items() if isinstance(v, Result) and v.error]
    passed = [n for n, v in verdicts if v == "PASS"]
    failed = [n for n, v in verdicts if v != "PASS"]
    text = f"SUMMARY: {len(passed)} of {len(verdicts)} targets met."
    if failed:
        text += f" Missed: {', '.join(failed)}."
    if errors:
        text += f" Benchmarks that did not run: {', '.join(errors)} (see var/bench/)."
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--phase", choices=["sweep", "notifications", "screening"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.phase:
        # A subprocess of the run below: the aux schema's settings are in the environment.
        import django

        django.setup()
        result = {
            "sweep": phase_sweep,
            "notifications": phase_notifications,
            "screening": phase_screening,
        }[args.phase]()
        print("BENCH_JSON " + json.dumps(result), flush=True)
        return 0

    if not shutil.which("wrk") and "http" in CONFIG.only:
        print("wrk is not installed: apt-get install wrk (Debian's package)", file=sys.stderr)
        return 1
    if "http" in CONFIG.only and not CONFIG.floor.is_file():
        print(
            f"bench: the floor is missing: no file {CONFIG.floor}. Every ratio is taken to it; "
            "set BENCH_FLOOR to the path of floor.py (the bare Django+DRF endpoint, "
            "../shared/bench/floor.py beside the clone).",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    try:
        if {"http", "burst"} & set(CONFIG.only):
            prepare_database()
        else:  # the background phases fill a schema of their own: no seeding needed
            ensure_database()
    except Exception as exc:  # noqa: BLE001 - tell the person what failed, and stop
        traceback.print_exc()
        print(f"bench: could not prepare the database: {exc}", file=sys.stderr)
        return 1
    setup_django()
    results: dict = {}
    background: dict = {}
    extra: dict = {}
    if "http" in CONFIG.only:
        try:
            http_benchmarks(results, extra)
        except Exception as exc:  # noqa: BLE001 - record it in the table and go on
            traceback.print_exc()
            results.setdefault("floor", Result("floor", "HTTP benchmarks", error=str(exc)))
    if {"sweep", "notifications", "screening"} & set(CONFIG.only):
        prepare_aux_schema()
    for phase in ("sweep", "notifications", "screening"):
        if phase not in CONFIG.only:
            continue
        log(f"{phase} benchmark (schema {AUX_SCHEMA}; output in var/bench/{phase}.log)")
        try:
            background[phase] = run_phase(phase)
        except Exception as exc:  # noqa: BLE001 - record it in the table and go on
            background[phase] = str(exc)
    report = table(results, background, extra)
    text = f"{report}\n\n{summary(results, background)}\n"
    print("\n" + text)
    print(f"(run took {time.monotonic() - started:.0f}s; written to var/bench/results.md)")
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "config": {k: v for k, v in CONFIG.__dict__.items() if k != "secret_key"},
                "http": {
                    k: (v.__dict__ if isinstance(v, Result) else v) for k, v in results.items()
                },
                "background": background,
                "extra": extra,
            },
            indent=2,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
