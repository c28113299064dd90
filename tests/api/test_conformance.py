"""The schema and the validation say the same thing, on the key endpoints, as an exporter
and as a reviewer.

Schemathesis generates requests from the published schema, valid ones (positive) and
invalid ones (negative), with a fixed seed; every answer must be no server error, have a
status and body the schema declares, and: an invalid request is refused (4xx), and a
valid query on a list is accepted. A valid *body* may still be refused for what a schema
cannot say (an id of no row, a currency other than the application's), so bodies are
held to the negative half only. `test_schema.py` fuzzes every operation for every role;
this one is the fast, bounded check of what scripts use most.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application as wsgi_application
from licensing.models import License, Review
from tests import factories
from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db

EXAMPLES = 12  # per operation, person and mode: some 600 requests in all
CONFORMS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# (who, method, path, the row its {id} names)
KEY_OPERATIONS = [
    ("exporter", "GET", "/api/v1/applications/", None),
    ("exporter", "POST", "/api/v1/applications/", None),
    ("exporter", "GET", "/api/v1/applications/{id}/", "disputed"),
    ("exporter", "PATCH", "/api/v1/applications/{id}/", "draft"),
    ("exporter", "GET", "/api/v1/applications/{id}/events/", "disputed"),
    ("exporter", "GET", "/api/v1/licenses/", None),
    ("exporter", "POST", "/api/v1/licenses/{id}/shipments/", "license"),
    ("exporter", "GET", "/api/v1/notifications/", None),
    ("reviewer", "GET", "/api/v1/reviews/", None),
    ("reviewer", "GET", "/api/v1/applications/", None),
    ("reviewer", "GET", "/api/v1/applications/{id}/", "disputed"),
    ("reviewer", "GET", "/api/v1/applications/{id}/events/", "disputed"),
    ("reviewer", "POST", "/api/v1/reviews/{id}/recommend/", "review"),
    ("reviewer", "GET", "/api/v1/screening-matches/", None),
]


@pytest.fixture(scope="module")
def schema():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(spec, renderer_context={}))
    )
    loaded.app = wsgi_application
    return loaded


@pytest.fixture
def world(keep_the_test_connection, exporter, reviewers):
    """An exporter's draft, a disputed case (Defense reviews it) and a licence; the tokens
    of the exporter and of Defense's reviewer, who holds an open review."""
    licensed = factories.approved(exporter, reviewers)
    disputed = factories.disputed(exporter, reviewers)
    open_case = factories.submitted(exporter, code="ML10", destination="CN")
    review = Review.objects.get(application=open_case, ministry="defense")
    rows = {
        "draft": factories.draft(created_by=exporter).pk,
        "disputed": disputed.pk,
        "license": License.objects.get(application=licensed).pk,
        "review": review.pk,
    }
    tokens = {"exporter": token_for(exporter), "reviewer": token_for(reviewers["defense"])}
    return rows, tokens


def _exercise(schema, who, method, path, row, world, mode) -> list[str]:
    rows, tokens = world
    operation = schema[path][method]
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters={"id": rows[row]} if row else None
    )
    checks = [*CONFORMS]
    if mode == GenerationMode.NEGATIVE:
        checks = [not_a_server_error, negative_data_rejection]
    elif method == "GET":
        checks.append(positive_data_acceptance)
    failures: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def send(case) -> None:
        response = case.call(headers={"Authorization": f"Token {tokens[who]}"})
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:  # every failure is reported, none shrunk
            titles = "; ".join(failure.title for failure in group.exceptions)
            failures.append(
                f"{who}, {mode.value}: {method} {case.formatted_path} query={case.query} "
                f"body={case.body!r} -> {response.status_code} {response.text[:200]} ({titles})"
            )

    try:
        send()
    except Unsatisfiable:
        # Nothing of this operation can be made invalid but its (fixed) id: no negative case.
        assert mode == GenerationMode.NEGATIVE, (who, method, path)
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_key_endpoints_answer_as_the_schema_says(schema, world, mode):
    failures = []
    for who, method, path, row in KEY_OPERATIONS:
        failures += _exercise(schema, who, method, path, row, world, mode)
    assert not failures, "\n\n".join(failures[:10]) + f"\n\n({len(failures)} in all)"


# The disagreements schemathesis found, each pinned on its own.


@pytest.fixture(scope="module")
def spec(schema) -> dict:
    return schema.raw_schema


def _query_parameter(spec: dict, path: str, name: str) -> dict:
    (found,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found["schema"]


@pytest.mark.parametrize("value", ["null", "", "0", "-1", "1.5", "²", "ten"])
def test_a_page_size_that_is_no_whole_number_from_1_is_refused(api, exporter, spec, value):
    response = api(exporter).get(f"/api/v1/applications/?page_size={value}")

    assert response.status_code == 400
    assert "page_size" in response.json()
    assert _query_parameter(spec, "/api/v1/applications/", "page_size")["minimum"] == 1


def test_a_page_size_past_the_maximum_gives_the_maximum(api, exporter, spec):
    response = api(exporter).get("/api/v1/countries/?page_size=100000000000000000000000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert "maximum" not in _query_parameter(spec, "/api/v1/countries/", "page_size")


@pytest.mark.parametrize("value", ["-1e308", "yes", "1", "True", ""])
@pytest.mark.parametrize(
    ("who", "path", "name"),
    [
        ("exporter", "/api/v1/applications/", "overdue"),
        ("reviewer", "/api/v1/reviews/", "overdue"),
        ("exporter", "/api/v1/notifications/", "unread"),
    ],
)
def test_a_boolean_filter_takes_only_true_or_false(
    api, exporter, reviewers, spec, who, path, name, value
):
    person = exporter if who == "exporter" else reviewers["economy"]
    client = api(person)

    refused = client.get(f"{path}?{name}={value}")

    assert refused.status_code == 400
    assert name in refused.json()
    assert _query_parameter(spec, path, name) == {"type": "boolean"}
    assert client.get(f"{path}?{name}=true").status_code == 200
    assert client.get(f"{path}?{name}=false").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/reviews/", "/api/v1/screening-matches/"])
def test_the_schema_says_an_application_id_is_a_whole_number_from_1(api, reviewers, spec, path):
    declared = _query_parameter(spec, path, "application")

    assert declared["type"] == "integer"
    assert declared["minimum"] == 1
    assert declared["maximum"] == 2**63 - 1
    assert api(reviewers["economy"]).get(f"{path}?application=0").status_code == 400
    assert api(reviewers["economy"]).get(f"{path}?application=1").status_code == 200


def test_the_schema_says_a_shipment_has_at_least_one_line(api, exporter, reviewers, spec):
    lines = spec["components"]["schemas"]["ShipmentInputRequest"]["properties"]["lines"]
    license = License.objects.get(application=factories.approved(exporter, reviewers))

    response = api(exporter).post(
        f"/api/v1/licenses/{license.pk}/shipments/",
        {"reference": "AWB-1", "shipped_on": license.valid_from.isoformat(), "lines": []},
        format="json",
    )

    assert lines["minItems"] == 1
    assert response.status_code == 400
    assert response.json()["lines"] == ["This list may not be empty."]


def test_a_date_filter_given_empty_is_refused(api, exporter):
    response = api(exporter).get("/api/v1/applications/?submitted_before=")

    assert response.status_code == 400
    assert response.json()["submitted_before"] == ["Give a value, or leave the parameter out."]
