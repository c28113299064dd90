"""The application an action starts from: the one its person may see, whoever asks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import Application
from licensing.selectors import application_locked_for, applications_visible_to
from licensing.services.applications import application_submit
from tests.factories import approved, draft

pytestmark = pytest.mark.django_db


def test_each_person_finds_exactly_the_applications_they_may_see(
    exporter, outsider, reviewers, supervisors, committee_member, administrator
):
    kept_draft = draft(created_by=exporter)
    decided = approved(exporter, reviewers)
    administrator_by_flag = type(administrator).objects.create_user(
        username="root-reviewer", role="reviewer", ministry="economy", is_superuser=True
    )
    to_germany = application_submit(application=draft(created_by=exporter), user=exporter)
    to_india = application_submit(
        application=draft(created_by=exporter, destination="IN"), user=exporter
    )
    people = [
        exporter,
        outsider,
        *reviewers.values(),
        *supervisors.values(),
        committee_member,
        administrator,
        administrator_by_flag,
    ]
    seen = set()
    for person in people:
        visible = set(applications_visible_to(person).values_list("pk", flat=True))
        for application in (kept_draft, to_germany, to_india, decided):
            found = application_locked_for(person, application.pk)
            assert (found is not None) == (application.pk in visible), (person, application)
            if found is not None:
                seen.add(person.pk)
                assert found == application
                with CaptureQueriesContext(connection) as queries:
                    assert found.organisation == exporter.organisation
                assert len(queries) == 0  # read with it
    assert {exporter.pk, committee_member.pk, administrator_by_flag.pk} <= seen
    assert outsider.pk not in seen
    assert application_locked_for(administrator, -1) is None
    assert application_locked_for(administrator, 2**63) is None  # past any id
    # A role outside the five sees nothing (its visible set is empty).
    stranger = type(exporter).objects.create_user(username="stranger", role="auditor")
    assert application_locked_for(stranger, decided.pk) is None


def test_it_locks_the_applications_row_only(exporter):
    application = draft(created_by=exporter)
    with CaptureQueriesContext(connection) as queries:
        assert application_locked_for(exporter, application.pk) == application
    (query,) = queries.captured_queries
    if connection.features.has_select_for_update:
        assert query["sql"].endswith(f'FOR UPDATE OF "{Application._meta.db_table}"')
