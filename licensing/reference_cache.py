"""Reference data read on every submission and queue page, kept in the cache.

Countries, control list entries, routing rules, deadline policies and closure
days change a few times a year,
in the admin; every submission, queue page and sweep reads them. They are
kept in Django's cache (Redis when `REDIS_URL` is set, shared by every web and
worker process; a folder under `var/` otherwise) and dropped whenever one of
them changes: on save and delete, on a list's countries changing, and again
once the change commits, so no process re-caches what a rolled-back or
not-yet-committed edit left behind. `REFERENCE_CACHE_SECONDS` bounds how long
an entry lives in any case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
NAMES = (
    "closures",
    "policies",
    "rules",
    "rule_versions",
    "countries",
    "control_entries",
    "criteria",
    "appeal_policy",
)


def _key(name: str) -> str:
    return f"licensing:reference:{name}"


def cached(name: str, compute: Callable[[], T]) -> T:
    value = cache.get(_key(name))
    if value is None:
        value = compute()
        cache.set(_key(name), value, settings.REFERENCE_CACHE_SECONDS)
    return value


def invalidate(*args: Any, **kwargs: Any) -> None:
    """Drop every cached piece of reference data, now and once the change commits."""
    keys = [_key(name) for name in NAMES]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def connect() -> None:
    """Invalidate on every change to the models the cache holds (called from the app config)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from licensing.models import (
        AppealPolicy,
        ControlListEntry,
        Country,
        CountryList,
        DeadlinePolicy,
        EscalationStep,
        NonWorkingDay,
        RefusalCriterion,
        RoutingRule,
    )

    for model in (
        AppealPolicy,
        ControlListEntry,
        Country,
        CountryList,
        DeadlinePolicy,
        EscalationStep,
        NonWorkingDay,
        RefusalCriterion,
        RoutingRule,
    ):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"reference-{model.__name__}")
        post_delete.connect(
            invalidate, sender=model, dispatch_uid=f"reference-del-{model.__name__}"
        )
    m2m_changed.connect(
        invalidate, sender=CountryList.countries.through, dispatch_uid="reference-list-countries"
    )
