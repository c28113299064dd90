"""Pages and API answers read again without reading the database again, until what
they show changes.

A reviewer refreshing a queue, a caseworker coming back to a case, a client
polling an application: most reads find the data as the last read left it.
Each person's rendered case page and queue page, and each caller's
`GET /api/v1/applications/{id}/`, are kept in the shared cache under keys that
hold the **versions** of what they show (key-based expiration,
`licensing.cache_versions`):

- a case page and an API detail: the application's version;
- a queue page: the version of that person's queue (their ministry's, their
  organisation's, the committee's, or everyone's for administrators);
- every page: the reference data's stamp (`licensing.reference_cache`) and the
  people's version (names, roles and ministries of colleagues on the page).

The services renew an application's version, and those of the queues that show
it, once the transaction that changed it commits: `application_changed`, which
`licensing.audit.audit_record` calls for every event it records on an
application (every service records one in the change's transaction), and the
few writes that record none (a draft's edits and uploads) call themselves. A
write to one case leaves every other case's kept answer valid. A version is
read before any row, so a page rendered from rows older than a change is never
kept under the version that change made.

What else a page depends on is in its key: the release (`RELEASE`, so a
deploy never serves the previous code's pages), the person as the request
loaded them (role, ministry, organisation, name), the path and query string,
the local date (days left and overdue marks move at midnight) and the
person's unread count (in the header). A page carrying messages for the person is
rendered, never served from or put in the cache; a form's CSRF token is put
in per request. `PAGE_CACHE_SECONDS` bounds an entry's life (0 turns the cache
off), which also bounds how long a change made outside Django (SQL typed into
`psql`), or one whose version could not be renewed because the cache was
unreachable when it committed, can go unnoticed. When the cache cannot be
reached, pages are rendered from the database as if nothing were kept.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac

from licensing import cache_versions, policies
from licensing.clock import local_today

PEOPLE = "licensing:version:people"
# An application's or a queue's version lives this long without a change; losing one
# costs a miss, never a stale page (see licensing.cache_versions).
VERSION_SECONDS = 24 * 60 * 60


@functools.cache
def csrf_placeholder_text() -> str:
    """Stands in for the CSRF token in a kept page; each answer carries the request's own.
    Derived from SECRET_KEY: the same in every process, and no one can type it into a
    field to have a reader's token written in its place."""
    return "csrf-" + salted_hmac("licensing.page_cache", "csrf placeholder").hexdigest()[:32]


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def application_version_key(pk: int) -> str:
    return f"licensing:version:application:{int(pk)}"


def queue_version_key(scope: str) -> str:
    return f"licensing:version:queue:{scope}"


def queue_scope(user) -> str:
    """Whose queue a person's home page shows: what its version is named after."""
    if user.is_administrator:
        return "all"
    workspace = policies.workspace(user)
    if workspace == "ministry":
        return f"ministry:{user.ministry}"
    if workspace == "exporter":
        return f"organisation:{user.organisation_id}"
    return workspace or "all"


# Applications changed in this thread's transaction, waiting for its commit: the
# application's id and its organisation's.
_pending = threading.local()


def application_changed(pk: int, organisation_id: int) -> None:
    """The application `pk` (or something its pages show: its reviews, goods, documents,
    licence, shipments...) changed in the current transaction: once it commits, its
    version and the versions of the queues showing it are renewed. Nothing happens if
    it rolls back. Call inside the change's transaction."""
    if not enabled():
        return
    changed = _pending.__dict__.setdefault("applications", {})
    changed[pk] = organisation_id
    # One callback per call (Django drops those of a rolled-back savepoint); the first
    # to run after the commit renews every version waiting, the others find none.
    transaction.on_commit(_renew_changed, robust=True)


def _renew_changed() -> None:
    from licensing.models import Review

    changed: dict[int, int] = _pending.__dict__.pop("applications", {})
    if not changed:
        return
    ministries = set(
        Review.objects.filter(application_id__in=list(changed))
        .values_list("ministry", flat=True)
        .distinct()
    )
    # The committee's and the administrators' pages list cases from every organisation.
    scopes = {"all", "committee"}
    scopes.update(f"organisation:{organisation}" for organisation in changed.values())
    scopes.update(f"ministry:{ministry}" for ministry in ministries)
    cache_versions.renew(
        [*map(application_version_key, changed), *map(queue_version_key, scopes)],
        VERSION_SECONDS,
    )


def people_changed(**kwargs: Any) -> None:
    """`post_save`/`post_delete` receiver for people and organisations: pages name
    colleagues and assignees, and list a ministry's staff. A login (only `last_login`
    saved) changes nothing a page shows."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    if enabled():
        transaction.on_commit(lambda: cache_versions.renew([PEOPLE], VERSION_SECONDS), robust=True)


def everything_changed() -> None:
    """Rows written in bulk beside the services (the demo's seeding, by COPY): once they
    commit, every kept page and answer is read afresh. Every key holds the reference
    data's stamp and the people's version; renewing both leaves no kept page current."""
    from licensing.reference_cache import STAMP

    transaction.on_commit(
        lambda: cache_versions.renew([STAMP, PEOPLE], VERSION_SECONDS), robust=True
    )


def _key(kind: str, *parts: object) -> str:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"licensing:{kind}:{digest}"


def _person(user) -> str:
    """The person as this request loaded them (role, ministry, organisation, name...):
    the user may have been read before a change to them committed, so what they were is
    part of the key, not only who."""
    return "\x1e".join(
        str(getattr(user, field.attname))
        for field in user._meta.concrete_fields
        if field.attname != "last_login"
    )


def _versions(scope_key: str) -> list[str] | None:
    """The versions a page under `scope_key` is kept under, read before any row; None
    when the cache cannot be reached."""
    from licensing.reference_cache import STAMP

    keys = [scope_key, PEOPLE, STAMP]
    found = cache_versions.versions(keys, VERSION_SECONDS)
    return None if found is None else [found[key] for key in keys]


def _page_key(request: HttpRequest, versions: Iterable[str]) -> str:
    user = request.user
    return _key(
        "page",
        settings.RELEASE,
        *versions,
        _person(user),
        getattr(user, "unread_notifications", ""),
        local_today().isoformat(),
        request.get_full_path(),
    )


def cached_page(
    scope: Callable[..., str],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Keep a person's successful GET of the view until what it shows changes: `scope`
    names the version it is kept under, from the view's arguments (see the module)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (
                not enabled()
                or request.method not in ("GET", "HEAD")
                or not request.user.is_authenticated
                or len(messages.get_messages(request))
            ):
                return view(request, *args, **kwargs)
            versions = _versions(scope(request, *args, **kwargs))
            if versions is None:  # no cache: render, keep nothing
                return view(request, *args, **kwargs)
            key = _page_key(request, versions)
            content = cache_versions.read(key)
            if content is None:
                request.META["licensing.page_cache"] = True  # the csrf_token: a placeholder
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return response
                content = response.content
                cache_versions.write(key, content, settings.PAGE_CACHE_SECONDS)
            else:
                response = HttpResponse(content_type="text/html; charset=utf-8")
            response.content = content.replace(
                csrf_placeholder_text().encode(), get_token(request).encode()
            )
            return response

        return wrapper

    return decorate


def case_scope(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> str:
    """A case page is kept under its application's version."""
    return application_version_key(pk)


def queue_page_scope(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
    """A home page is kept under the version of the person's queue."""
    return queue_version_key(queue_scope(request.user))


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a page is rendered for the cache, its forms carry the
    placeholder the cache swaps for each request's own CSRF token."""
    if request.META.get("licensing.page_cache"):
        return {"csrf_token": csrf_placeholder_text()}
    return {}


def cached_data(request, application_pk: int, parts: tuple, compute: Callable[[], Any]) -> Any:
    """An API answer about one application, for this caller, kept until it changes."""
    if not enabled():
        return compute()
    versions = _versions(application_version_key(application_pk))
    if versions is None:
        return compute()
    key = _key(
        "api",
        settings.RELEASE,
        *versions,
        _person(request.user),
        local_today().isoformat(),
        *parts,
    )
    data = cache_versions.read(key)
    if data is None:
        data = compute()
        cache_versions.write(key, data, settings.PAGE_CACHE_SECONDS)
    return data
