"""The pages run under a Content-Security-Policy with no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.factories import draft, submitted

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


def test_every_page_sends_a_policy_of_self_only(client, exporter):
    client.force_login(exporter)
    for url in ["/", "/accounts/login/"]:
        policy = _policy(client.get(url))
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert "unsafe" not in " ".join(policy.values())
        assert policy["frame-ancestors"] == "'none'"


def test_no_page_carries_inline_script_handlers_or_styles(
    client, exporter, reviewers, committee_member
):
    application = submitted(exporter)
    own_draft = draft(created_by=exporter)
    pages = {
        exporter: [
            "/",
            f"/applications/{application.pk}/",
            f"/applications/{own_draft.pk}/",
            f"/applications/{own_draft.pk}/edit/",
            "/applications/new/",
        ],
        reviewers["economy"]: ["/", f"/applications/{application.pk}/"],
        committee_member: ["/"],
    }
    client.get("/accounts/login/")
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert not INLINE_SCRIPT.search(html), url
            assert not INLINE_HANDLER.search(html), url
            assert not INLINE_STYLE.search(html), url


def test_confirmations_are_a_page_of_their_own_so_they_need_no_script(client, exporter):
    client.force_login(exporter)
    application = draft(created_by=exporter)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "data-confirm" not in html  # no window.confirm: the server asks (see test_views)
    assert '<script src="/static/licensing/site.js">' in html
    asked = client.post(f"/applications/{application.pk}/delete/").content.decode()
    assert "Delete this draft? This cannot be undone." in asked
    assert not INLINE_SCRIPT.search(asked)
    assert not INLINE_HANDLER.search(asked)
    assert not INLINE_STYLE.search(asked)
    script = Path(finders.find("licensing/site.js")).read_text()
    assert "add-good" in script
    assert finders.find("licensing/site.css")
