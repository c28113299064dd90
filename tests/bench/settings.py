"""The production settings, as `make bench` serves and measures them.

`make bench` serves the app with DJANGO_SETTINGS_MODULE=tests.bench.settings: the
product's settings and URLs unchanged (the floor every ratio is taken to is served apart,
by ../shared/bench/floor.py: see tests/bench/run.py).

BENCH_DB_SCHEMA puts every table in a PostgreSQL schema of its own inside the
bench database (the deadline-sweep and notification benchmarks use one, so
their synthetic rows never show in the pages being measured).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

if os.environ.get("BENCH_DB_SCHEMA"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c search_path={os.environ['BENCH_DB_SCHEMA']}"
    )
