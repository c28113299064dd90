"""`seed_demo`: the demo organisations and logins, idempotent, and generated cases."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from accounts.models import Organisation, User
from licensing.audit import audit_verify_chain
from licensing.models import Application, RoutingRule

pytestmark = pytest.mark.django_db

DEMO_USERS = {
    "exporter": ("exporter", ""),
    "exporter2": ("exporter", ""),
    "defense": ("reviewer", "defense"),
    "economy": ("reviewer", "economy"),
    "foreign": ("reviewer", "foreign"),
    "defense-supervisor": ("supervisor", "defense"),
    "economy-supervisor": ("supervisor", "economy"),
    "foreign-supervisor": ("supervisor", "foreign"),
    "committee": ("committee", ""),
    "admin": ("administrator", ""),
}


def test_it_creates_every_demo_login_with_the_demo_password(settings):
    settings.DEMO_PASSWORD = "s3cret-demo"
    call_command("seed_demo")
    for username, (role, ministry) in DEMO_USERS.items():
        login = RequestFactory().post("/accounts/login/")  # the lockout needs the request
        user = authenticate(login, username=username, password="s3cret-demo")
        assert user is not None, username
        assert (user.role, user.ministry) == (role, ministry)
    ricor = Organisation.objects.get(name="Ricor Demo Ltd")
    assert ricor.register_status == "registered"
    assert User.objects.get(username="exporter").organisation == ricor
    assert User.objects.get(username="exporter2").organisation != ricor
    assert User.objects.get(username="admin").is_superuser


def test_running_it_twice_changes_nothing():
    call_command("seed_demo")
    before = (
        list(User.objects.order_by("pk").values()),
        list(Organisation.objects.order_by("pk").values()),
        list(RoutingRule.objects.order_by("pk").values()),
    )
    call_command("seed_demo")
    after = (
        list(User.objects.order_by("pk").values()),
        list(Organisation.objects.order_by("pk").values()),
        list(RoutingRule.objects.order_by("pk").values()),
    )
    assert before == after


def test_generated_applications_cover_every_state_with_an_intact_trail():
    call_command("seed_demo", applications=14)
    statuses = Counter(Application.objects.values_list("status", flat=True))
    assert sum(statuses.values()) == 14
    assert set(statuses) == {
        "draft",
        "under_review",
        "information_requested",
        "approved",
        "denied",
        "disputed",
        "withdrawn",
        "superseded",
        "partially_approved",
        "under_appeal",
    }
    assert audit_verify_chain().ok
