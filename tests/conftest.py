"""Shared fixtures: named personas and the seeded reference data."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection

from accounts.models import Ministry
from licensing import reference_data
from tests import factories
from tests.harness import SmtpSink

# Bulk seeding draws at random and is timed around "today": the seeding tests take both
# from here, so a failure names the run that reproduces it. CI (.ci/run) picks new ones on
# every run; a laptop run uses the fixed pair.
SEEDING_SEED = int(os.environ.get("SEEDING_SEED") or 20261208)
SEEDING_DATE = os.environ.get("SEEDING_DATE") or "2026-11-02T10:00:00+02:00"


def pytest_report_header(config):
    return f"seeding: SEEDING_SEED={SEEDING_SEED} SEEDING_DATE={SEEDING_DATE}"


@pytest.fixture
def seeding_run() -> tuple[int, datetime]:
    """The seed and moment of a seeding test's run (SEEDING_SEED, SEEDING_DATE)."""
    return SEEDING_SEED, datetime.fromisoformat(SEEDING_DATE)


def pytest_collection_modifyitems(config, items):
    """Skip what the services at hand cannot test truthfully; CI sets both URLs, so skips nothing.

    `postgres`: row locks and concurrent transactions (SQLite ignores row locks).
    `redis`: a real worker on a real broker, with throwaway redis-servers for faults.
    """
    skips = {}
    if connection.vendor != "postgresql":
        skips["postgres"] = pytest.mark.skip(reason="needs PostgreSQL; CI sets DATABASE_URL")
    if not settings.REDIS_URL or not shutil.which("redis-server"):
        skips["redis"] = pytest.mark.skip(reason="needs Redis; CI sets REDIS_URL")
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_broker_unless_asked(request, monkeypatch):
    """Outside tests of real background work, enqueue-on-commit publishes nowhere.

    Tests that commit (transactional_db) would otherwise leave messages on the
    developer's broker. Tests marked `redis` use a real one.
    """
    if request.node.get_closest_marker("redis"):
        return
    from licensing.tasks import deliver_notifications, rescreen_list

    monkeypatch.setattr(deliver_notifications, "apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(rescreen_list, "apply_async", lambda *args, **kwargs: None)


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app (what `notify` publishes through) at `url`."""
    from config.celery import app

    def switch(to: str) -> None:
        app.conf.broker_url = to
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    switch(url)
    try:
        yield app
    finally:
        switch(previous)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def _transactional(request) -> bool:
    """Does the test's work commit (a transactional test, or a live server's)?"""
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or set(request.fixturenames) & {"transactional_db", "live_server"}
    )


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush every table, the migrated reference data included: reload it."""
    if _transactional(request):
        request.getfixturevalue("transactional_db")
        reference_data.load(django_apps)


@pytest.fixture(autouse=True)
def _audit_guard(request):
    """The database's guard on the audit trail is on in every test that touches the database.

    pytest-django empties every table after a transactional test (TRUNCATE on
    PostgreSQL, DELETE on SQLite), which the guard refuses: it is lifted just
    for that, and put back before the next test.
    """
    fixtures = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = _transactional(request)
    if not (transactional or marker is not None or "db" in fixtures):
        yield
        return
    from licensing import audit_guard

    request.getfixturevalue("transactional_db" if transactional else "db")
    audit_guard.install(connection)
    yield
    if transactional:
        audit_guard.remove(connection)


@pytest.fixture(autouse=True)
def _anchors_in_tmp(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads (documents) go to the test's own folder, never the developer's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test has a cache of its own, empty: no throttle counts or reference data from
    another test, and never a flush of the developer's (or CI's) Redis."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def _page_cache_where_writes_commit(request, settings):
    """Kept pages learn of a write when it commits (licensing/page_cache.py). A test
    inside one transaction that never commits would be shown its own earlier pages, so
    the cache is on only where writes commit: transactional tests and the browser's
    journeys, which exercise it; tests/web/test_page_cache.py pins its behaviour."""
    if not _transactional(request):
        settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _no_idle_logout(settings):
    """Tests travel in time (time_machine) with one login: staff would be logged out
    for idling weeks. tests/web/test_idle_timeout.py turns the timeout back on."""
    settings.SESSION_IDLE_MINUTES = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users need a password, not a slow hash of one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organisation():
    return factories.OrganisationFactory(name="Ricor Test Ltd")


@pytest.fixture
def exporter(organisation):
    return factories.ExporterFactory(username="alice", organisation=organisation)


@pytest.fixture
def teammate(organisation):
    return factories.ExporterFactory(username="bob", organisation=organisation)


@pytest.fixture
def outsider():
    """An exporter of another company, who should have no access."""
    return factories.ExporterFactory(
        username="mallory", organisation=factories.OrganisationFactory(name="Other Co Ltd")
    )


@pytest.fixture
def reviewers():
    return {
        ministry: factories.ReviewerFactory(username=f"{ministry}-reviewer", ministry=ministry)
        for ministry in Ministry.values
    }


@pytest.fixture
def supervisors():
    return {
        ministry: factories.SupervisorFactory(username=f"{ministry}-boss", ministry=ministry)
        for ministry in Ministry.values
    }


@pytest.fixture
def committee_member():
    return factories.CommitteeFactory(username="carol")


@pytest.fixture
def administrator():
    return factories.AdministratorFactory(username="root")
