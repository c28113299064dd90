"""The OpenAPI schema is valid, served, and tells the truth about every response."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application as wsgi_application
from tests.api.conftest import token_for
from tests.factories import draft

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_the_schema_and_the_interactive_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


# Every role, each with the case a request of theirs can reach (or must not).
ROLES = ("exporter", "outsider", "reviewer", "supervisor", "committee", "administrator")
# Generated examples per operation in the fuzzing phase, each sent as every role (6 x 12
# requests; it was 2 x 6). The examples and coverage phases come on top (see `_senders`).
MAX_EXAMPLES = 12


@pytest.fixture
def callers(
    keep_the_test_connection,
    exporter,
    outsider,
    reviewers,
    supervisors,
    committee_member,
    administrator,
):
    """A user of every role, and the ids of real rows to aim the generated ids at: a draft,
    a case under review, a disputed one before the committee and an approved one (with its
    license), their reviews and notifications."""
    from licensing.models import License, Notification, Review
    from tests.factories import approved, disputed, submitted

    cases = [
        draft(created_by=exporter),
        submitted(exporter),
        disputed(exporter, reviewers),
        approved(exporter, reviewers),
    ]
    users = {
        "exporter": exporter,
        "outsider": outsider,
        "reviewer": reviewers["economy"],
        "supervisor": supervisors["defense"],
        "committee": committee_member,
        "administrator": administrator,
    }
    known = {
        "applications": [a.pk for a in cases],
        "reviews": list(Review.objects.values_list("pk", flat=True)),
        "licenses": list(License.objects.values_list("pk", flat=True)),
        "notifications": list(Notification.objects.values_list("pk", flat=True)),
    }
    assert all(known.values())
    return users, {who: token_for(user) for who, user in users.items()}, known


def _aim(case, known: dict[str, list[int]]) -> None:
    """Turn the even generated ids into ids of real rows, so checks reach past the 404s;
    the odd ones (and anything that is not a whole number) are sent as generated."""
    params = case.path_parameters or {}
    value = params.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
        ids = known.get(case.path.split("/")[3], [])  # /api/v1/<resource>/...
        if ids:
            params["id"] = ids[(value // 2) % len(ids)]


def _senders(case) -> tuple[str, ...]:
    """Every role for the generated (fuzzing) and the schema's own examples. The coverage
    phase's deterministic cases (each boundary and each invalid value of each field: some
    hundreds for a draft) go to one role each, in turn, so every role gets its share."""
    if case.meta is not None and case.meta.phase.name.value == "coverage":
        _senders.turn += 1
        return (ROLES[_senders.turn % len(ROLES)],)
    return ROLES


_senders.turn = 0


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_a_server_error_or_breaks_the_schema(case, callers):
    """Each request, sent as every role in turn (see `_senders`)."""
    users, tokens, known = callers
    _aim(case, known)
    for who in _senders(case):
        if case.path == "/api/v1/auth/logout/":
            tokens[who] = token_for(users[who])  # the last one was logged out
        try:
            case.call_and_validate(headers={"Authorization": f"Token {tokens[who]}"}, checks=CHECKS)
        except BaseException as exc:
            exc.add_note(f"sent as: {who}")
            raise


# Schemathesis never draws lone surrogates (it leaves out category Cs: they cannot
# be encoded for the wire, except as JSON's "\\udXXX" escapes), so the text fuzzing
# is ours: any code point, lone surrogates and NUL included, in each text field of
# a draft, created and edited; then explicit cases.
TEXT_FIELDS = [
    ("license_type",),
    ("destination",),
    ("end_use",),
    ("currency",),
    ("end_user", "name"),
    ("end_user", "address"),
    ("end_user", "country"),
    ("end_user", "type"),
    ("goods", 0, "description"),
    ("goods", 0, "control_list_entry"),
    ("goods", 0, "unit_value"),
    ("goods", 0, "technology_generation"),
]


def _send_with(client, method: str, target, path: tuple, text: str):
    import json

    from tests.api.conftest import draft_payload

    body = draft_payload()
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text
    data = json.dumps(body)  # ensure_ascii: a surrogate travels as "\\ud800"
    if method == "POST":
        return client.post("/api/v1/applications/", data=data, content_type="application/json")
    return client.patch(
        f"/api/v1/applications/{target.pk}/", data=data, content_type="application/json"
    )


# A list of characters, joined: st.text() itself leaves lone surrogates out.
ANY_TEXT = st.lists(
    st.one_of(
        st.characters(exclude_categories=()),  # any code point
        st.characters(categories=["Cs"]),  # a lone surrogate
        st.just("\x00"),
    ),
    max_size=12,
).map("".join)


@given(
    method=st.sampled_from(["POST", "PATCH"]),
    path=st.sampled_from(TEXT_FIELDS),
    text=ANY_TEXT,
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_text_in_any_field_makes_a_server_error(api, exporter, method, path, text):
    client = api(exporter)
    client.raise_request_exception = False
    target = draft(created_by=exporter)
    response = _send_with(client, method, target, path, text)
    assert response.status_code in (200, 201, 400), (path, text, response.status_code)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    "text",
    ["\ud800", "\udfff", "x\ud83d", "\x00", "a\x00b", "\U0001f680"],
    ids=["high", "low", "half-pair", "nul", "inner-nul", "astral"],
)
def test_hostile_text_in_every_string_field_is_never_a_server_error(api, exporter, method, text):
    """Explicit cases beside the fuzzing: each text field in turn holds the text."""
    client = api(exporter)
    client.raise_request_exception = False
    target = draft(created_by=exporter)
    for path in TEXT_FIELDS:
        response = _send_with(client, method, target, path, text)
        assert response.status_code in (200, 201, 400), (path, response.status_code)
        assert response["Content-Type"].startswith("application/json")
