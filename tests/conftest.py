"""Shared fixtures: named personas and the seeded reference data."""

from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.db import connection

from accounts.models import Ministry
from licensing import reference_data
from tests import factories


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks; on SQLite they cannot say anything true."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks); CI runs it with DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush every table, the migrated reference data included: reload it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        reference_data.load(django_apps)


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
