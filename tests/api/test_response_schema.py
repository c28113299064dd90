"""Every response of a whole case, for every role, is one the published schema allows.

The schema is generated in-process (as `/api/schema/` serves it) and each response body
is validated by openapi-core, a validator this project did not write, against the schema
declared for that operation and status code. The cases are driven so that every
operation in the schema is exercised, and each role sees its own shape of every object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from rest_framework.test import APIClient

from licensing.models import Application, Notification
from tests import factories
from tests.api.conftest import draft_payload, token_for

pytestmark = pytest.mark.django_db

SUNDAY = "2026-11-01 10:00 +02:00"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
COOLER = {
    "description": "Miniature cryogenic cooler",
    "control_list_entry": "6A003",
    "quantity": 4,
    "unit_value": "2500.50",
    "technology_generation": "current",
}
CONSIGNEE = {
    "name": "Hamburg Freight GmbH",
    "address": "Am Sandtorkai 1, Hamburg",
    "country": "DE",
    "type": "commercial",
}


@pytest.fixture(scope="module")
def spec() -> dict:
    """The schema exactly as `/api/schema/?format=json` renders it."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@pytest.fixture(scope="module")
def openapi(spec) -> OpenAPI:
    return OpenAPI.from_dict(spec)


def _operations(spec: dict) -> dict[tuple[str, str], re.Pattern]:
    """(METHOD, path template) -> a pattern matching the concrete paths."""
    found = {}
    for template, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                found[(method.upper(), template)] = pattern
    return found


@dataclass
class Conformance:
    """Validates each response against the schema; remembers what it saw and what failed."""

    openapi: OpenAPI
    spec: dict
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def check(self, who: str, method: str, path: str, response) -> None:
        template = self._template(method, path)
        if template is None:
            self.failures.append(f"{who}: {method} {path}: no operation in the schema")
            return
        self.seen.add((method, template, response.status_code))
        content_type = response.get("Content-Type", "")
        streaming = getattr(response, "streaming", False)
        data = b"" if streaming else response.content
        if streaming:  # a file download: its status and media type are what the schema declares
            declared = self.spec["paths"][template][method.lower()]["responses"]
            media = declared.get(str(response.status_code), {}).get("content", {})
            if content_type.split(";")[0] not in media:
                self.failures.append(
                    f"{who}: {method} {path} -> {response.status_code} {content_type}: "
                    f"not a declared media type ({sorted(media)})"
                )
            return
        if response.status_code == 204:
            content_type = ""
        errors = list(
            self.openapi.iter_response_errors(
                MockRequest("http://testserver", method.lower(), path),
                MockResponse(data, status_code=response.status_code, content_type=content_type),
            )
        )
        for error in errors:
            detail = _explain(error)
            self.failures.append(f"{who}: {method} {template} -> {response.status_code}: {detail}")

    def _template(self, method: str, path: str) -> str | None:
        for (op_method, template), pattern in _operations(self.spec).items():
            if op_method == method and pattern.match(path):
                return template
        return None

    def assert_conforms(self) -> None:
        unique = list(dict.fromkeys(self.failures))
        assert not unique, f"{len(unique)} responses the schema rejects:\n" + "\n".join(unique)


def _explain(error: Exception) -> str:
    """The innermost schema errors, which say which field and why."""
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        inner = getattr(cause, "schema_errors", None)
        if inner:
            for schema_error in inner:
                parts.append(_schema_error(schema_error))
            break
        parts.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return "\n    ".join(parts)


def _schema_error(schema_error, depth: int = 0) -> str:
    where = "/".join(str(p) for p in schema_error.absolute_path)
    line = f"at /{where}: {schema_error.message[:300]}"
    for sub in (schema_error.context or [])[:6]:
        line += "\n      " + "  " * depth + _schema_error(sub, depth + 1)
    return line


class CheckedClient:
    """An API client for one caller; every response is validated against the schema."""

    def __init__(self, who: str, user, conformance: Conformance) -> None:
        self.who = who
        self.user = user
        self.conformance = conformance
        self.client = APIClient()
        if user is not None:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")

    def _call(self, method: str, path: str, data=None, **kwargs):
        if method in ("POST", "PATCH") and "format" not in kwargs:
            kwargs["format"] = "json"
        response = getattr(self.client, method.lower())(path, data, **kwargs)
        self.conformance.check(self.who, method, path.split("?", maxsplit=1)[0], response)
        return response

    def get(self, path: str, data=None, **kwargs):
        return self._call("GET", path, data, **kwargs)

    def post(self, path: str, data=None, **kwargs):
        return self._call("POST", path, data, **kwargs)

    def patch(self, path: str, data=None, **kwargs):
        return self._call("PATCH", path, data, **kwargs)

    def delete(self, path: str, data=None, **kwargs):
        return self._call("DELETE", path, data, **kwargs)


@pytest.fixture
def conformance(openapi, spec) -> Conformance:
    return Conformance(openapi=openapi, spec=spec)


@pytest.fixture
def callers(
    conformance, exporter, outsider, reviewers, supervisors, committee_member, administrator
) -> dict[str, CheckedClient]:
    people = {
        "exporter": exporter,
        "outsider": outsider,
        **{f"{m}-reviewer": user for m, user in reviewers.items()},
        **{f"{m}-supervisor": user for m, user in supervisors.items()},
        "committee": committee_member,
        "administrator": administrator,
    }
    clients = {who: CheckedClient(who, user, conformance) for who, user in people.items()}
    clients["anonymous"] = CheckedClient("anonymous", None, conformance)
    return clients


def _reviews(body: dict) -> dict[str, dict]:
    return {review["ministry"]: review for review in body["reviews"]}


def _everyone_reads(callers: dict[str, CheckedClient], application_id: int) -> None:
    """Each role's view of one application, its parts, the lists, the queue, the licenses."""
    for client in callers.values():
        client.get("/api/v1/applications/")
        client.get("/api/v1/applications/", {"status": "under_review"})
        client.get(f"/api/v1/applications/{application_id}/")
        client.get(f"/api/v1/applications/{application_id}/events/")
        client.get(f"/api/v1/applications/{application_id}/documents/")
        client.get("/api/v1/reviews/")
        client.get("/api/v1/licenses/")
        client.get("/api/v1/notifications/")


def test_every_response_of_whole_cases_for_every_role_conforms(
    callers, conformance, spec, exporter, reviewers
):
    alice, mallory = callers["exporter"], callers["outsider"]
    carol = callers["committee"]
    reviewer = {m: callers[f"{m}-reviewer"] for m in ("defense", "economy", "foreign")}
    supervisor = {m: callers[f"{m}-supervisor"] for m in ("defense", "economy", "foreign")}

    with time_machine.travel(SUNDAY, tick=False):
        # Reference data, for everyone; and the errors anyone can meet.
        for client in callers.values():
            client.get("/api/v1/countries/")
            client.get("/api/v1/countries/DE/")
            client.get("/api/v1/countries/XX/")
            client.get("/api/v1/control-list-entries/")
            client.get("/api/v1/control-list-entries/6A003/")
            client.get("/api/v1/control-list-entries/ZZZ999/")
            client.get("/api/v1/applications/", {"page": 99})
        callers["anonymous"].post("/api/v1/auth/token/", {"username": "alice", "password": "x"})
        callers["anonymous"].post(
            "/api/v1/auth/token/", {"username": "alice", "password": "demo-password"}
        )

        # A draft with a consignee, edited; then one without.
        created = alice.post(
            "/api/v1/applications/",
            draft_payload(destination="CN", goods=[COOLER], consignee=CONSIGNEE),
        )
        assert created.status_code == 201, created.content
        app = created.json()["id"]
        alice.post("/api/v1/applications/", {"license_type": "nonsense"})
        assert alice.patch(f"/api/v1/applications/{app}/", {"consignee": None}).status_code == 200
        alice.patch(f"/api/v1/applications/{app}/", {"goods": [{"quantity": -1}]})
        mallory.patch(f"/api/v1/applications/{app}/", {"end_use": "x"})
        reviewer["economy"].patch(f"/api/v1/applications/{app}/", {"end_use": "x"})

        # Documents: an upload, a refused one, the list and the file.
        uploaded = alice.post(
            f"/api/v1/applications/{app}/documents/",
            {"file": SimpleUploadedFile("cert.pdf", PDF), "kind": "other"},
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.content
        alice.post(
            f"/api/v1/applications/{app}/documents/",
            {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 32), "kind": "other"},
            format="multipart",
        )
        mallory.post(
            f"/api/v1/applications/{app}/documents/",
            {"file": SimpleUploadedFile("cert.pdf", PDF), "kind": "other"},
            format="multipart",
        )
        alice.get(uploaded.json()["file_url"])
        mallory.get(uploaded.json()["file_url"])
        _everyone_reads(callers, app)

        # Submitted: every ministry reviews it.
        mallory.post(f"/api/v1/applications/{app}/submit/")
        submitted = alice.post(f"/api/v1/applications/{app}/submit/")
        assert submitted.status_code == 200, submitted.content
        alice.post(f"/api/v1/applications/{app}/submit/")  # 409
        alice.patch(f"/api/v1/applications/{app}/", {"end_use": "x"})  # 409
        review = {m: r["id"] for m, r in _reviews(submitted.json()).items()}
        assert set(review) == {"defense", "economy", "foreign"}
        _everyone_reads(callers, app)

        # The queues; claims (one refused, one too many), a question and its answer.
        for client in callers.values():
            client.get("/api/v1/reviews/", {"overdue": "true"})
            client.get(f"/api/v1/reviews/{review['economy']}/")
        alice.post(f"/api/v1/reviews/{review['economy']}/claim/")  # 404
        reviewer["foreign"].post(f"/api/v1/reviews/{review['economy']}/claim/")  # 404
        assert (
            reviewer["economy"].post(f"/api/v1/reviews/{review['economy']}/claim/").status_code
            == 200
        )
        reviewer["economy"].post(f"/api/v1/reviews/{review['economy']}/claim/")  # 409
        reviewer["economy"].post(
            f"/api/v1/reviews/{review['economy']}/request-information/", {"question": ""}
        )
        asked = reviewer["economy"].post(
            f"/api/v1/reviews/{review['economy']}/request-information/",
            {"question": "Who operates the cameras?"},
        )
        assert asked.status_code == 200, asked.content
        _everyone_reads(callers, app)
        alice.post(f"/api/v1/applications/{app}/respond/", {})
        mallory.post(f"/api/v1/applications/{app}/respond/", {"answer": "x"})
        reviewer["economy"].post(f"/api/v1/applications/{app}/respond/", {"answer": "x"})
        answered = alice.post(f"/api/v1/applications/{app}/respond/", {"answer": "The brigade."})
        assert answered.status_code == 200, answered.content

        # A supervisor hands Defense's review to a colleague, who recommends with conditions.
        defense_reviewer = reviewer["defense"].user
        supervisor["defense"].post(f"/api/v1/reviews/{review['defense']}/reassign/", {"user": 0})
        reassigned = supervisor["defense"].post(
            f"/api/v1/reviews/{review['defense']}/reassign/", {"user": defense_reviewer.pk}
        )
        assert reassigned.status_code == 200, reassigned.content
        reviewer["defense"].post(
            f"/api/v1/reviews/{review['defense']}/recommend/", {"recommendation": "maybe"}
        )
        reviewer["defense"].post(
            f"/api/v1/reviews/{review['defense']}/recommend/",
            {
                "recommendation": "approve_with_conditions",
                "conditions": "No re-export without written consent.",
                "reason": "Internal: end user vetted.",
            },
        )
        reviewer["foreign"].post(f"/api/v1/reviews/{review['foreign']}/claim/")
        reviewer["foreign"].post(
            f"/api/v1/reviews/{review['foreign']}/recommend/", {"recommendation": "approve"}
        )
        last = reviewer["economy"].post(
            f"/api/v1/reviews/{review['economy']}/recommend/", {"recommendation": "approve"}
        )
        assert last.json()["application"]["status"] == "approved", last.content
        reviewer["economy"].post(
            f"/api/v1/reviews/{review['economy']}/recommend/", {"recommendation": "approve"}
        )  # 409
        _everyone_reads(callers, app)

        # The license: read by everyone; suspended, reinstated, revoked; and refusals.
        license_id = alice.get(f"/api/v1/applications/{app}/").json()["license"]["id"]
        for client in callers.values():
            client.get(f"/api/v1/licenses/{license_id}/")
        # Shipments against it: recorded, replayed, refused; the list and the document.
        goods = alice.get(f"/api/v1/licenses/{license_id}/").json()["goods"]
        shipment = {
            "reference": "AWB-1",
            "shipped_on": "2026-11-01",
            "lines": [{"license_good": goods[0]["id"], "quantity": 1, "value": "2500.50"}],
        }
        shipments = f"/api/v1/licenses/{license_id}/shipments/"
        assert alice.post(shipments, shipment).status_code == 201
        assert alice.post(shipments, shipment).status_code == 200  # the same, again
        assert alice.post(shipments, {**shipment, "shipped_on": "2026-11-02"}).status_code == 409
        too_many = {**shipment, "reference": "AWB-2"}
        too_many["lines"] = [{**shipment["lines"][0], "quantity": 99}]
        assert alice.post(shipments, too_many).status_code == 409
        bad = {**shipment, "reference": "AWB-3", "lines": [{"license_good": 0, "quantity": 0}]}
        assert alice.post(shipments, bad).status_code == 400
        mallory.post(shipments, shipment)  # 404
        carol.post(shipments, shipment)  # 403
        for client in callers.values():
            client.get(shipments)
            client.get(f"/api/v1/licenses/{license_id}/document/")
        alice.post(f"/api/v1/licenses/{license_id}/surrender/", {})  # 400
        carol.post(f"/api/v1/licenses/{license_id}/surrender/", {"reason": "x"})  # 403
        alice.post(f"/api/v1/licenses/{license_id}/suspend/", {"reason": "x"})  # 403
        mallory.post(f"/api/v1/licenses/{license_id}/suspend/", {"reason": "x"})  # 404
        carol.post(f"/api/v1/licenses/{license_id}/suspend/", {})  # 400
        number = alice.get(f"/api/v1/licenses/{license_id}/").json()["number"]
        marketed = alice.post("/api/v1/applications/", draft_payload(marketing_license=number))
        assert marketed.json()["marketing_license"] == number, marketed.content
        unmarketed = alice.patch(
            f"/api/v1/applications/{marketed.json()['id']}/", {"marketing_license": None}
        )
        assert unmarketed.json()["marketing_license"] is None
        assert (
            carol.post(f"/api/v1/licenses/{license_id}/suspend/", {"reason": "Check."}).status_code
            == 200
        )
        for client in callers.values():
            client.get(f"/api/v1/licenses/{license_id}/")
        carol.post(f"/api/v1/licenses/{license_id}/reinstate/", {"reason": "Cleared."})
        carol.post(f"/api/v1/licenses/{license_id}/reinstate/", {"reason": "Again."})  # 409
        carol.post(f"/api/v1/licenses/{license_id}/revoke/", {"reason": "Breach."})
        carol.post(f"/api/v1/licenses/{license_id}/suspend/", {"reason": "Again."})  # 409
        alice.post(f"/api/v1/licenses/{license_id}/surrender/", {"reason": "Late."})  # 409
        alice.post(shipments, {**shipment, "reference": "AWB-4"})  # 409: revoked
        other = factories.approved(exporter, reviewers).license
        surrendered = alice.post(f"/api/v1/licenses/{other.pk}/surrender/", {"reason": "Done."})
        assert surrendered.json()["status"] == "surrendered", surrendered.content
        _everyone_reads(callers, app)

        # A disputed case, decided by the committee.
        disputed = alice.post(
            "/api/v1/applications/", draft_payload(military_end_use=True, consignee=CONSIGNEE)
        ).json()["id"]
        body = alice.post(f"/api/v1/applications/{disputed}/submit/").json()
        ids = {m: r["id"] for m, r in _reviews(body).items()}
        reviewer["defense"].post(f"/api/v1/reviews/{ids['defense']}/claim/")
        reviewer["defense"].post(
            f"/api/v1/reviews/{ids['defense']}/recommend/",
            {"recommendation": "deny", "reason": "Risk.", "criteria": ["7"]},
        )
        reviewer["economy"].post(f"/api/v1/reviews/{ids['economy']}/claim/")
        reviewer["economy"].post(
            f"/api/v1/reviews/{ids['economy']}/recommend/", {"recommendation": "approve"}
        )
        _everyone_reads(callers, disputed)
        alice.post(f"/api/v1/applications/{disputed}/decide/", {"decision": "approve"})  # 403
        carol.post(f"/api/v1/applications/{disputed}/decide/", {"decision": "perhaps"})  # 400
        carol.post(
            f"/api/v1/applications/{disputed}/decide/",
            {"decision": "deny", "reason": "x", "conditions": "Only with an approval."},
        )  # 400
        decided = carol.post(
            f"/api/v1/applications/{disputed}/decide/",
            {"decision": "deny", "reason": "The risk outweighs the use.", "criteria": ["4"]},
        )
        assert decided.status_code == 200, decided.content
        carol.post(
            f"/api/v1/applications/{disputed}/decide/", {"decision": "deny", "reason": "x"}
        )  # 409
        _everyone_reads(callers, disputed)

        # A withdrawn case, a deleted draft and a refused destination.
        withdrawn = alice.post("/api/v1/applications/", draft_payload()).json()["id"]
        alice.post(f"/api/v1/applications/{withdrawn}/submit/")
        mallory.post(f"/api/v1/applications/{withdrawn}/withdraw/", {})
        assert (
            alice.post(f"/api/v1/applications/{withdrawn}/withdraw/", {"reason": "No."}).status_code
            == 200
        )
        alice.post(f"/api/v1/applications/{withdrawn}/withdraw/", {})  # 409
        alice.delete(f"/api/v1/applications/{withdrawn}/")  # 409
        _everyone_reads(callers, withdrawn)
        deleted = alice.post("/api/v1/applications/", draft_payload()).json()["id"]
        mallory.delete(f"/api/v1/applications/{deleted}/")  # 404
        assert alice.delete(f"/api/v1/applications/{deleted}/").status_code == 204
        embargoed = alice.post("/api/v1/applications/", draft_payload(destination="IR"))
        alice.post(f"/api/v1/applications/{embargoed.json()['id']}/submit/")  # 400

        # Changing course: an amendment and its changes, decisions per good, an appeal,
        # a licence amended.
        original = alice.post(
            "/api/v1/applications/", draft_payload(goods=[COOLER, {**COOLER, "quantity": 2}])
        ).json()["id"]
        alice.post(f"/api/v1/applications/{original}/submit/")
        mallory.post(f"/api/v1/applications/{original}/amend/")  # 404
        amended = alice.post(f"/api/v1/applications/{original}/amend/")
        assert amended.status_code == 201, amended.content
        conflict = alice.post(f"/api/v1/applications/{original}/amend/")  # 409, naming it
        assert conflict.json()["amendment"] == amended.json()["id"]
        amendment = amended.json()["id"]
        alice.patch(f"/api/v1/applications/{amendment}/", {"goods": [COOLER]})
        for client in callers.values():
            client.get(f"/api/v1/applications/{amendment}/changes/")
        alice.post(f"/api/v1/applications/{amendment}/submit/")
        for client in callers.values():
            client.get(f"/api/v1/applications/{original}/")
            client.get(f"/api/v1/applications/{amendment}/changes/")
        parted = alice.post(
            "/api/v1/applications/", draft_payload(goods=[COOLER, {**COOLER, "quantity": 2}])
        ).json()
        parted = alice.post(f"/api/v1/applications/{parted['id']}/submit/").json()
        review = _reviews(parted)["economy"]["id"]
        reviewer["economy"].post(f"/api/v1/reviews/{review}/claim/")
        goods = [good["id"] for good in parted["goods"]]
        reviewer["economy"].post(
            f"/api/v1/reviews/{review}/recommend/",
            {"recommendation": "approve", "goods": [{"good": goods[0]}]},
        )  # 400
        reviewer["economy"].post(
            f"/api/v1/reviews/{review}/recommend/",
            {
                "recommendation": "approve",
                "reason": "The second is not needed there.",
                "goods": [
                    {"good": goods[0], "recommendation": "approve"},
                    {"good": goods[1], "recommendation": "deny", "criteria": ["7"]},
                ],
            },
        )
        _everyone_reads(callers, parted["id"])
        appealed = alice.post(
            f"/api/v1/applications/{parted['id']}/appeal/", {"grounds": "Both are needed."}
        )
        assert appealed.json()["status"] == "under_appeal", appealed.content
        alice.post(f"/api/v1/applications/{parted['id']}/appeal/", {"grounds": "Again."})  # 409
        _everyone_reads(callers, parted["id"])
        carol.post(
            f"/api/v1/applications/{parted['id']}/decide/",
            {"decision": "approve", "reason": "Upheld."},
        )
        licence = Application.objects.get(pk=parted["id"]).license.pk
        mallory.post(f"/api/v1/licenses/{licence}/amend/")  # 404
        assert alice.post(f"/api/v1/licenses/{licence}/amend/").status_code == 201
        alice.post(f"/api/v1/licenses/{licence}/amend/")  # 409
        for client in callers.values():
            client.get(f"/api/v1/licenses/{licence}/")
        # Screening: a party on the sample list; staff see the match, resolve it, once.
        factories.screening_list()
        screened = alice.post(
            "/api/v1/applications/",
            draft_payload(
                other_parties=[
                    {
                        "kind": "ultimate_end_user",
                        "name": "Zagros Precision Industries",
                        "address": "Tehran Road 4",
                        "country": "DE",
                        "type": "military",
                    }
                ]
            ),
        ).json()["id"]
        held = alice.post(f"/api/v1/applications/{screened}/submit/").json()
        economy_review = _reviews(held)["economy"]["id"]
        reviewer["economy"].post(f"/api/v1/reviews/{economy_review}/claim/")
        reviewer["economy"].post(
            f"/api/v1/reviews/{economy_review}/recommend/", {"recommendation": "approve"}
        )  # 409: the match holds it
        _everyone_reads(callers, screened)
        match = reviewer["economy"].get("/api/v1/screening-matches/").json()["results"][0]["id"]
        resolve = f"/api/v1/screening-matches/{match}/resolve/"
        for client in callers.values():
            client.get("/api/v1/screening-matches/")
            client.get(f"/api/v1/screening-matches/{match}/")
        alice.post(resolve, {"disposition": "cleared", "reason": "x"})  # 404
        callers["administrator"].post(resolve, {"disposition": "cleared", "reason": "x"})  # 403
        reviewer["economy"].post(resolve, {"disposition": "perhaps"})  # 400
        cleared = reviewer["economy"].post(
            resolve, {"disposition": "cleared", "reason": "Another company of that name."}
        )
        assert cleared.status_code == 200, cleared.content
        reviewer["economy"].post(resolve, {"disposition": "confirmed", "reason": "x"})  # 409
        _everyone_reads(callers, screened)

        # Notifications, read by their recipients (and by no one else: 404).
        for client in callers.values():
            mine = Notification.objects.filter(recipient=client.user).first()
            if client.user is not None and mine is not None:
                client.post(f"/api/v1/notifications/{mine.pk}/read/")
                client.post(f"/api/v1/notifications/{mine.pk}/read/")  # idempotent
                if client is not mallory:
                    mallory.post(f"/api/v1/notifications/{mine.pk}/read/")

        # Logging a token out: without one, 401; with a second token of alice's, 204, once.
        callers["anonymous"].post("/api/v1/auth/logout/")
        leaving = CheckedClient("exporter", alice.user, conformance)
        assert leaving.post("/api/v1/auth/logout/").status_code == 204
        assert leaving.post("/api/v1/auth/logout/").status_code == 401
        assert alice.get("/api/v1/applications/").status_code == 200  # her other token

    conformance.assert_conforms()

    # Every operation was exercised, and the errors a client can provoke were met.
    operations = {(method, template) for method, template in _operations(spec)}
    exercised = {(method, template) for method, template, _ in conformance.seen}
    assert operations - exercised == set()
    codes = {code for _, _, code in conformance.seen}
    assert {200, 201, 204, 400, 401, 403, 404, 409} <= codes


def test_every_role_lists_every_state_in_its_own_shape(callers, conformance, exporter):
    """Both shapes are told apart: each body matches exactly one branch of the `oneOf`."""
    alice = callers["exporter"]
    app = alice.post("/api/v1/applications/", draft_payload(destination="CN", goods=[COOLER]))
    app_id = app.json()["id"]
    alice.post(f"/api/v1/applications/{app_id}/submit/")
    for who, client in callers.items():
        response = client.get(f"/api/v1/applications/{app_id}/")
        if response.status_code == 200:
            expected = "exporter" if who == "exporter" else "staff"
            assert response.json()["audience"] == expected, who
            events = client.get(f"/api/v1/applications/{app_id}/events/").json()["results"]
            assert {event["audience"] for event in events} == {expected}, who
    conformance.assert_conforms()
