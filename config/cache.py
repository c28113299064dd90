"""Django's Redis cache, with one Redis client per connection pool instead of one per call;
and the shared tokens that say which kept values are current (`shared_token`).

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache
operation, and a `redis.Redis` fills a table of some 1,300 response callbacks when
it is made: about 0.2 ms of CPU per `cache.get`, paid several times by every
request (its session, the cached pages, reference data, throttles). A client over
a connection pool is safe to share between threads (each command borrows a
connection from the pool), so each pool keeps one.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, one client per pool."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


def shared_token(key: str) -> str:
    """A token every process reads from the cache under `key`, made on first use (after a
    restart or an eviction): what was kept under an older token is never read again.
    If the cache drops it at once (a culling cache), this caller's own token is
    answered: it matches nothing kept before."""
    current = cache.get(key)
    if current is None:
        token = uuid.uuid4().hex
        cache.add(key, token, None)
        current = cache.get(key) or token
    return current


def renew_shared_token(key: str) -> None:
    """Replace the token under `key`: in every process, what was kept under the old one
    is stale from now on."""
    cache.set(key, uuid.uuid4().hex, None)
