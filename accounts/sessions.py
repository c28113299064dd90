"""Sessions read from the cache and written through to the database (Django's `cached_db`),
read from the database when the cache cannot be reached.

Django's `cached_db` survives a failed cache read and a failed write on save, but not
the write that follows reading a session from the database, nor the lookup of a new
session key: with Redis down every logged-in page would fail. The database is the
record, so these read it instead. A logout whose cache delete fails still fails: the
session must not outlive it in a cache that comes back.
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db, db

from licensing.cache_versions import CACHE_ERRORS, logger


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            return super().load()
        except CACHE_ERRORS as error:
            logger.warning("Cache unavailable (session load): %s", error)
            return db.SessionStore.load(self)

    def exists(self, session_key):
        try:
            return super().exists(session_key)
        except CACHE_ERRORS as error:
            logger.warning("Cache unavailable (session exists): %s", error)
            return db.SessionStore.exists(self, session_key)
