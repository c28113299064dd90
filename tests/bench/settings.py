"""The production settings, plus the benchmark's floor endpoint (tests.bench.urls).

`make bench` serves the app with DJANGO_SETTINGS_MODULE=tests.bench.settings, so the
floor endpoint is served by the same gunicorn, middleware and database as the
pages it is compared with, and never appears among the product's URLs.

BENCH_DB_SCHEMA puts every table in a PostgreSQL schema of its own inside the
bench database (the deadline-sweep and notification benchmarks use one, so
their synthetic rows never show in the pages being measured).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "tests.bench.urls"

if os.environ.get("BENCH_DB_SCHEMA"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c search_path={os.environ['BENCH_DB_SCHEMA']}"
    )
