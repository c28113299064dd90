"""Reference data: one cache read per request for its stamp, and a change seen at once."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from licensing import cache_versions, reference_cache
from licensing.models import DeadlinePolicy
from licensing.selectors import deadline_policies, routing_rules, rule_versions

pytestmark = pytest.mark.django_db


def _stamp_reads(call) -> int:
    with mock.patch.object(
        reference_cache.cache_versions, "version", wraps=cache_versions.version
    ) as version:
        call()
    return version.call_count


def _in_a_request(call):
    """`call` between the request signals, which (as the test client does) leave the
    test's database connection open."""

    def run():
        with _connection_kept():
            request_started.send(sender=None)
            try:
                call()
            finally:
                request_finished.send(sender=None)

    return run


@contextmanager
def _connection_kept():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _read_all():
    routing_rules()
    rule_versions()
    deadline_policies()


def test_a_request_reads_the_stamp_once_however_much_reference_data_it_reads():
    _read_all()  # decoded in this process
    assert _stamp_reads(_in_a_request(_read_all)) == 1
    # Outside a request (a task, a command), every read asks.
    assert _stamp_reads(_read_all) == 3


def test_a_change_made_in_the_request_is_read_in_the_same_request():
    def change_and_read():
        before = deadline_policies()
        policy = DeadlinePolicy.objects.get(ministry="economy")
        policy.review_days += 7
        policy.save()
        after = deadline_policies()
        assert after["economy"].review_days == before["economy"].review_days + 7

    _in_a_request(change_and_read)()


def test_a_change_elsewhere_is_read_by_the_next_request():
    seen = []
    _in_a_request(lambda: seen.append(deadline_policies()["economy"].review_days))()
    # Another process changes the policy: it drops the shared copies and replaces the
    # stamp; this process's decoded copy is left as it was.
    DeadlinePolicy.objects.filter(ministry="economy").update(review_days=99)
    cache.delete_many([reference_cache._key(name) for name in reference_cache.NAMES])
    cache_versions.renew([reference_cache.STAMP])
    _in_a_request(lambda: seen.append(deadline_policies()["economy"].review_days))()
    assert seen[1] == 99 != seen[0]


def test_with_the_cache_unreachable_reference_data_is_read_from_the_database(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # a closed port
        }
    }
    DeadlinePolicy.objects.filter(ministry="economy").update(review_days=42)
    assert deadline_policies()["economy"].review_days == 42
