"""Two-factor login in a real browser: the demo administrator's code step and the header's
admin link, and a reviewer turning it on from the Security page with the key the page
shows (which logs their other browser out)."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP

from accounts.models import User
from accounts.two_factor import device_of
from tests.auth import code, forgive, wrong_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_admin_needs_the_code_and_a_wrong_one_is_refused(browser, live_server, settings):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    device = device_of(User.objects.get(username="admin"))
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto("/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("[type=submit]")
        page.wait_for_url("**/accounts/two-factor/**")
        assert "Enter the 6-digit code" in page.inner_text("h1")
        page.goto("/")  # the password alone opens nothing
        page.wait_for_url("**/accounts/two-factor/**")

        page.fill("#id_code", wrong_code(device))
        page.click("#verify")
        page.wait_for_selector("text=That code is not right")
        forgive(device)
        page.fill("#id_code", code(device))
        page.click("#verify")
        page.wait_for_url(f"{live_server.url}/")
        page.click("header >> #nav-admin")  # the admin link, for whoever may use the admin
        page.wait_for_selector("text=Rules, reference data and people")
    finally:
        context.close()


def test_a_reviewer_turns_it_on_and_then_logs_in_with_the_code(open_as, live_server, settings):
    elsewhere = open_as("defense")  # another browser, logged in with the password alone
    page = open_as("defense")  # no two-factor login yet: the password alone
    page.click("header >> text=Security")
    page.wait_for_selector("#two-factor-status")
    assert "Off" in page.inner_text("#two-factor-status")
    page.click("text=Turn on two-factor login")
    page.wait_for_selector(".qr svg")
    key = page.inner_text("#two-factor-key").replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    page.fill("#id_code", f"{TOTP(secret).token():06d}")  # what the phone would show
    page.click("#confirm")
    page.wait_for_selector("text=Two-factor login is on")
    assert "On" in page.inner_text("#two-factor-status")
    # Turning it on logged the other browser out; this one stays in.
    elsewhere.goto("/")
    elsewhere.wait_for_url("**/accounts/login/**")
    page.goto("/")
    page.wait_for_url(f"{live_server.url}/")

    page.click("header >> text=Log out")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", "defense")
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/**")
    page.fill("#id_code", code(device_of(User.objects.get(username="defense"))))
    page.click("#verify")
    page.wait_for_url(f"{live_server.url}/")
