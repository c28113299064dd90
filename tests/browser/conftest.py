"""A real browser: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (CI installs it)")
    # (Playwright gives each launch a fresh temporary profile.)
    # Playwright's sync API runs an event loop in this thread; the tests still
    # talk to the database synchronously between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def enter_code(page, username: str) -> None:
    """The login's second step: the code the user's authenticator shows now."""
    from accounts.models import User
    from accounts.two_factor import device_of
    from tests.auth import code

    page.fill("#id_code", code(device_of(User.objects.get(username=username))))
    page.click("#verify")


@pytest.fixture
def open_as(browser, live_server, settings):
    """Log a demo user in, in a fresh browser context, and return the page."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    contexts = []

    def login(username: str):
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(re.escape(live_server.url) + r"/(accounts/two-factor/.*)?$"))
        if "/accounts/two-factor/" in page.url:  # two-factor login on (the demo admin)
            enter_code(page, username)
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield login
    for context in contexts:
        context.close()


# What a person would see, checked on every page a journey visits: no serious or
# critical accessibility violation (axe-core, from the axe-playwright-python wheel),
# no sideways scrolling at a laptop's and a phone's width, and a screenshot of each
# width under var/screenshots/ to look at.
WIDTHS = {"laptop": (1366, 768), "phone": (390, 844)}
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "var", "screenshots")


def axe_violations(page) -> list[str]:
    """The serious and critical violations axe-core finds on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


@pytest.fixture
def looks_right():
    """`looks_right(page, name)`: axe-clean and no sideways scroll at both widths.

    Takes a full-page screenshot at each width as var/screenshots/<name>-<width>.png
    and gives the page back at the laptop width.
    """
    os.makedirs(SCREENSHOTS, exist_ok=True)

    def check(page, name: str) -> None:
        problems = []
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_load_state("load")
            overflow = sideways_overflow(page)
            if overflow > 0:
                problems.append(f"{width_name} ({width} px): {overflow} px of sideways scrolling")
            page.screenshot(
                path=os.path.join(SCREENSHOTS, f"{name}-{width_name}.png"), full_page=True
            )
            problems += [f"{width_name}: {line}" for line in axe_violations(page)]
        page.set_viewport_size({"width": WIDTHS["laptop"][0], "height": WIDTHS["laptop"][1]})
        assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)

    return check
