"""Versions of the data, kept in the cache, and cache calls that never fail a request.

A version is a random token under a key that names one thing: one application, one
queue, the reference data, the people. Whatever is kept for it is stored under a key
that holds the token; a change replaces the token (`renew`), so what was kept before is
never read again and simply ages out. Nothing is ever deleted, and a change to one
thing leaves what was kept for everything else as it was.

A token that is missing (never made, evicted, expired, or the cache restarted) is made
on first use: it matches nothing kept before, so losing one costs a miss, never a
stale answer.

The cache is an optimisation: when it cannot be reached (Redis down), these calls log
a warning and answer as if nothing were kept, so the request reads the database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - a laptop without redis-py uses the file cache
    CACHE_ERRORS: tuple[type[Exception], ...] = (OSError,)
else:
    CACHE_ERRORS = (OSError, RedisError)


def _unreachable(operation: str, error: Exception) -> None:
    logger.warning("Cache unavailable (%s): %s", operation, error)


def read(key: str) -> Any:
    """What the cache holds under `key`; None when nothing, or when it cannot be reached."""
    try:
        return cache.get(key)
    except CACHE_ERRORS as error:
        _unreachable("get", error)
        return None


def read_many(keys: Iterable[str]) -> dict[str, Any] | None:
    """The values found under `keys`; None when the cache cannot be reached."""
    try:
        return cache.get_many(list(keys))
    except CACHE_ERRORS as error:
        _unreachable("get_many", error)
        return None


def write(key: str, value: Any, timeout: float | None) -> None:
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS as error:
        _unreachable("set", error)


def delete_many(keys: Iterable[str]) -> None:
    try:
        cache.delete_many(list(keys))
    except CACHE_ERRORS as error:
        _unreachable("delete_many", error)


def _new_token() -> str:
    return uuid.uuid4().hex


def versions(keys: Iterable[str], timeout: float | None = None) -> dict[str, str] | None:
    """The current token under each key (made where there is none, kept for `timeout`
    seconds, None: until evicted); None when the cache cannot be reached."""
    keys = list(keys)
    found = read_many(keys)
    if found is None:
        return None
    for key in keys:
        if key in found:
            continue
        token = _new_token()
        try:
            # Another process may have made one meanwhile: theirs is the one.
            if cache.add(key, token, timeout):
                found[key] = token
            else:
                found[key] = cache.get(key) or token
        except CACHE_ERRORS as error:
            _unreachable("add", error)
            return None
    return found


def version(key: str, timeout: float | None = None) -> str | None:
    found = versions([key], timeout)
    return None if found is None else found[key]


def renew(keys: Iterable[str], timeout: float | None = None) -> None:
    """Replace the token under each key: what was kept under the old ones is stale, in
    every process, from now on."""
    try:
        cache.set_many({key: _new_token() for key in keys}, timeout)
    except CACHE_ERRORS as error:
        _unreachable("renew", error)
