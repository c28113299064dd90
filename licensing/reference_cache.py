"""Reference data read on every submission and queue page, kept in the cache.

Countries, control list entries, routing rules, deadline policies and closure
days change a few times a year,
in the admin; every submission, queue page and sweep reads them. They are
kept in Django's cache (Redis when `REDIS_URL` is set, shared by every web and
worker process; a folder under `var/` otherwise) and dropped whenever one of
them changes: on save and delete, on a list's countries changing, and again
once the change commits, so no process re-caches what a rolled-back or
not-yet-committed edit left behind. `REFERENCE_CACHE_SECONDS` bounds how long
an entry lives in any case. Each process keeps what it decoded, and reuses it
while the shared stamp (replaced by every invalidation) is unchanged: a read
costs one small cache lookup, not unpickling the rows again. Kept pages hold the
stamp in their keys (`licensing.page_cache`), so a change here renders them
afresh. When the cache cannot be reached, each read computes from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from licensing import cache_versions

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


STAMP = "licensing:reference:stamp"
# What this process decoded last, by name: (the stamp it was read under, the value). The
# shared cache holds each value pickled; unpickling the countries' rows on every request
# cost a third of creating an application. A value is reused while the shared stamp,
# which every invalidation replaces, is the one it was read under.
_decoded: dict[str, tuple[str, Any]] = {}


# The stamp as the current request first read it: one cache read per request, however many
# pieces it reads (a submission reads four). None outside a request (tasks, commands):
# each read asks the cache.
_request_stamp: ContextVar[list[str] | None] = ContextVar("reference_stamp", default=None)


def _stamp() -> str | None:
    """The shared stamp (None when the cache cannot be reached)."""
    memo = _request_stamp.get()
    if memo is None:
        return cache_versions.version(STAMP)
    if not memo:
        stamp = cache_versions.version(STAMP)
        if stamp is None:
            return None
        memo.append(stamp)
    return memo[0]


class OneStampPerRequest:
    """Middleware: the stamp a request reads first serves the whole request, and no longer.

    The memo is reset when the view returns or raises, whatever happens to the response
    after (a streamed file nobody reads to the end never sends `request_finished`): a
    stamp kept past its request would let this process serve what it decoded under it
    after the data changed in a transaction that then rolled back.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _request_stamp.set([])
        try:
            return self.get_response(request)
        finally:
            _request_stamp.reset(token)


def _key(name: str) -> str:
    return f"licensing:reference:{name}"


def cached(name: str, compute: Callable[[], T]) -> T:
    """The reference data `name`: decoded in this process, read from the shared cache,
    or computed, whichever is the first still current (one small read when decoded)."""
    stamp = _stamp()
    if stamp is None:  # no cache: nothing says what is current but the database
        return compute()
    decoded = _decoded.get(name)
    if decoded is not None and decoded[0] == stamp:
        return decoded[1]
    value = cache_versions.read(_key(name))
    if value is None:
        value = compute()
        cache_versions.write(_key(name), value, settings.REFERENCE_CACHE_SECONDS)
    _decoded[name] = (stamp, value)
    return value


def _drop(keys: list[str]) -> None:
    _decoded.clear()
    cache_versions.delete_many(keys)
    cache_versions.renew([STAMP])  # kept pages hold it in their keys
    memo = _request_stamp.get()
    if memo:
        memo.clear()  # this request reads the new stamp


def invalidate(*args: Any, **kwargs: Any) -> None:
    """Drop every cached piece of reference data, in every process: now and once the
    change commits."""
    keys = [_key(name) for name in NAMES]
    _drop(keys)
    transaction.on_commit(lambda: _drop(keys))


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
