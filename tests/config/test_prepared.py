"""Queries compiled once give what the ORM gives, for any values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.prepared import prepare
from licensing.models import Application, Good
from tests.factories import ApplicationFactory, GoodFactory

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_and_their_related_rows_are_what_the_orm_reads():
    first, second = ApplicationFactory(), ApplicationFactory()
    GoodFactory(application=first)
    GoodFactory(application=second)
    prepared = prepare(
        Good.objects.select_related("application__organisation", "control_list_entry").filter(
            application_id=0
        ),
        0,
    )
    for application in (first, second):
        ours = prepared.all(application.pk)
        theirs = list(
            Good.objects.select_related("application__organisation", "control_list_entry").filter(
                application_id=application.pk
            )
        )
        assert [_fields(g) for g in ours] == [_fields(g) for g in theirs]
        # The related rows came with them: reading them asks nothing more.
        with CaptureQueriesContext(connection) as queries:
            assert ours[0].application.organisation == theirs[0].application.organisation
            assert _fields(ours[0].application) == _fields(theirs[0].application)
            assert ours[0].control_list_entry == theirs[0].control_list_entry
        assert len(queries) == 0


def test_values_are_converted_as_the_orm_converts_them():
    application = ApplicationFactory()
    prepared = prepare(Application.objects.filter(pk=0), 0)
    ours = prepared.first(application.pk)
    theirs = Application.objects.get(pk=application.pk)
    assert ours.created_at == theirs.created_at
    assert ours.created_at.tzinfo is not None
    assert _fields(ours) == _fields(theirs)


def test_no_row_is_none_and_a_missing_value_is_refused():
    prepared = prepare(Application.objects.filter(pk=0), 0)
    assert prepared.first(-1) is None
    with pytest.raises(TypeError):
        prepared.all()


def test_only_the_stand_ins_are_replaced():
    kept, other = ApplicationFactory(end_user_name="Kept"), ApplicationFactory()
    prepared = prepare(Application.objects.filter(end_user_name="Kept", pk__in=[-1, -2]), -1, -2)
    assert [a.pk for a in prepared.all(kept.pk, other.pk)] == [kept.pk]


def test_a_stand_in_must_be_one_of_the_querys_values_and_only_once():
    with pytest.raises(ValueError, match="stand-in"):
        prepare(Application.objects.filter(pk=0), 1)
    with pytest.raises(ValueError, match="stand-in"):
        prepare(Application.objects.filter(pk=0, organisation_id=0), 0)


def test_a_known_parent_is_set_on_each_row_as_a_related_manager_sets_it():
    application = ApplicationFactory()
    GoodFactory(application=application)
    GoodFactory(application=application)
    prepared = prepare(Good.objects.filter(application_id=0), 0)
    goods = prepared.all(application.pk, known={"application": application})
    with CaptureQueriesContext(connection) as queries:
        assert all(good.application is application for good in goods)
    assert len(goods) == 2 and len(queries) == 0
