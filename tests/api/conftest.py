"""API clients for the personas: token auth, as scripts use it."""

from __future__ import annotations

import pytest
from django.core import signals
from django.db import close_old_connections
from rest_framework.test import APIClient

from accounts.tokens import issue_token


@pytest.fixture
def keep_the_test_connection():
    """Requests go straight to the WSGI handler, whose end-of-request hook would close the
    test's database connection (Django's test client disconnects it the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def token_for(user) -> str:
    """A new API token for `user` (knox keeps only its digest: the value is shown once)."""
    _, token = issue_token(user)
    return token


@pytest.fixture
def api():
    """`api(user)`: a client sending `Authorization: Token ...`; `api(None)`: anonymous."""

    def client_for(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return client_for


def draft_payload(**overrides) -> dict:
    """A complete dual-use draft to Germany, as an exporter's script would post it."""
    payload = {
        "license_type": "dual_use_export",
        "destination": "DE",
        "end_user": {
            "name": "Fraunhofer Demo Institute",
            "address": "Hansastrasse 27c, Munich",
            "country": "DE",
            "type": "research",
        },
        "consignee": None,
        "end_use": "Thermal imaging research on civilian infrastructure.",
        "military_end_use": False,
        "currency": "USD",
        "goods": [
            {
                "description": "Miniature cryogenic cooler",
                "control_list_entry": "6A003",
                "quantity": 10,
                "unit_value": "1500.00",
                "technology_generation": "previous",
            }
        ],
    }
    payload.update(overrides)
    return payload
