"""Reference data: one cache read per request for its stamp, and a change seen at once."""

from datetime import date
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from licensing import cache_versions, reference_cache
from licensing.clock import WorkingCalendar
from licensing.models import DeadlinePolicy, NonWorkingDay
from licensing.selectors import deadline_policies, routing_rules, rule_versions

pytestmark = pytest.mark.django_db


def _stamp_reads(call) -> int:
    with mock.patch.object(
        reference_cache.cache_versions, "version", wraps=cache_versions.version
    ) as version:
        call()
    return version.call_count


def _in_a_request(call):
    """`call` as a view behind the middleware that keeps one stamp per request."""

    def run():
        def view(request):
            call()
            return HttpResponse()

        reference_cache.OneStampPerRequest(view)(RequestFactory().get("/"))

    return run


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


def test_a_stamp_is_not_kept_past_its_request(client, exporter):
    """A streamed file nobody reads to the end never sends `request_finished`: the stamp the
    request read must not outlive it, or this process would go on serving what it decoded
    under that stamp after a change that rolled back."""
    from licensing.services.documents import document_upload
    from tests.factories import draft

    application = draft(created_by=exporter)
    document = document_upload(
        application=application,
        user=exporter,
        file=SimpleUploadedFile("cert.pdf", b"%PDF-1.7\n%%EOF\n"),
        kind="other",
    )
    client.force_login(exporter)
    response = client.get(f"/api/v1/applications/{application.pk}/documents/{document.pk}/file/")
    assert response.status_code == 200  # streamed, and left unread
    day = date(2026, 12, 24)
    with transaction.atomic():
        NonWorkingDay.objects.create(date=day, reason="A closure that is rolled back.")
        assert day in WorkingCalendar.load().closures
        transaction.set_rollback(True)
    cache.clear()  # the next test's cache, or Redis restarted
    assert day not in WorkingCalendar.load().closures
