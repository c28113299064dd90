"""Shipments against a licence: all lines or none, never overdrawn, idempotent; exhaustion;
surrender; and the daily jobs leaving ended licences alone."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from licensing.exceptions import InvalidInput, NotPermitted, TransitionConflict
from licensing.models import (
    AuditEvent,
    License,
    LicenseGood,
    LicenseValidity,
    Notification,
    Shipment,
    ShipmentLine,
)
from licensing.services.deadlines import deadlines_sweep
from licensing.services.expiry import licenses_expire_and_warn
from licensing.services.licenses import license_surrender, license_suspend
from licensing.services.shipments import shipment_record
from tests import factories
from tests.services.test_concurrency import _run_in_threads

pytestmark = pytest.mark.django_db

TODAY = "2026-11-01 10:00 +02:00"  # a Sunday


@pytest.fixture
def license(exporter, reviewers) -> License:
    """Two goods licensed on 1 November 2026: 10 coolers at 1,500 and 10 more at 1,500."""
    with time_machine.travel(TODAY, tick=False):
        return factories.approved(exporter, reviewers, goods=2).license


def _goods(license: License) -> list[LicenseGood]:
    return list(LicenseGood.objects.filter(license=license).order_by("id"))


def _ship(license, user, reference="AWB-1", day=date(2026, 11, 2), **quantities):
    """`first=3, second=2`: lines for the licence's first and second goods, valued pro rata."""
    goods = _goods(license)
    lines = [
        {"license_good": goods[i].pk, "quantity": q, "value": Decimal(1500) * q}
        for i, q in ((0, quantities.get("first")), (1, quantities.get("second")))
        if q
    ]
    return shipment_record(
        license=license, user=user, reference=reference, shipped_on=day, lines=lines
    )


def test_a_licence_carries_each_good_with_its_quantity_and_value(license):
    goods = _goods(license)
    application_goods = list(license.application.goods.order_by("id"))
    assert [g.good_id for g in goods] == [g.pk for g in application_goods]
    assert [(g.quantity, g.value, g.currency) for g in goods] == [
        (10, Decimal("15000.00"), "USD")
    ] * 2
    assert all(g.used_quantity == 0 and g.remaining_quantity == 10 for g in goods)


def test_a_shipment_draws_each_line_and_is_audited(license, exporter):
    shipment = _ship(license, exporter, first=3, second=2)
    assert not shipment.replayed
    first, second = _goods(license)
    assert (first.used_quantity, first.used_value, first.remaining_quantity) == (
        3,
        Decimal("4500.00"),
        7,
    )
    assert (second.remaining_quantity, second.remaining_value) == (8, Decimal("12000.00"))
    event = AuditEvent.objects.get(action="shipment_recorded")
    assert event.application_id == license.application_id
    assert event.actor == exporter
    assert event.data["reference"] == "AWB-1"
    assert event.data["lines"] == [
        {"license_good": first.pk, "quantity": 3, "value": "4500.00"},
        {"license_good": second.pk, "quantity": 2, "value": "3000.00"},
    ]


def test_one_line_too_many_records_nothing_of_the_shipment(license, exporter):
    _ship(license, exporter, first=9)
    with pytest.raises(TransitionConflict) as refused:
        _ship(license, exporter, reference="AWB-2", first=2, second=1)
    assert refused.value.code == "exceeds_remaining"
    assert list(refused.value.errors) == ["lines[0].quantity", "lines[0].value"]
    assert (
        "Line 1 (Miniature cryogenic cooler, 6A003): quantity 2 exceeds the remaining 1."
        in (refused.value.errors["lines[0].quantity"])
    )
    assert Shipment.objects.count() == 1
    assert [g.used_quantity for g in _goods(license)] == [9, 0]  # the second line too: none


def test_the_value_may_pass_the_licensed_value_only_by_the_types_tolerance(license, exporter):
    good = _goods(license)[0]
    over = [{"license_good": good.pk, "quantity": 1, "value": Decimal("15000.01")}]
    with pytest.raises(TransitionConflict) as refused:
        shipment_record(
            license=license, user=exporter, reference="A", shipped_on=date(2026, 11, 2), lines=over
        )
    assert list(refused.value.errors) == ["lines[0].value"]

    LicenseValidity.objects.filter(license_type=license.license_type).update(value_tolerance=10)
    shipment_record(
        license=license, user=exporter, reference="A", shipped_on=date(2026, 11, 2), lines=over
    )
    last = [{"license_good": good.pk, "quantity": 1, "value": Decimal("1499.99")}]
    shipment_record(
        license=license, user=exporter, reference="B", shipped_on=date(2026, 11, 2), lines=last
    )  # 16,500.00 in all: the 10% tolerance, to the cent
    with pytest.raises(TransitionConflict):
        shipment_record(
            license=license,
            user=exporter,
            reference="C",
            shipped_on=date(2026, 11, 2),
            lines=[{"license_good": good.pk, "quantity": 1, "value": Decimal("0.01")}],
        )
    good.refresh_from_db()
    assert (good.used_value, good.remaining_value) == (Decimal("16500.00"), Decimal("0.00"))


def test_the_same_shipment_sent_twice_is_recorded_once(license, exporter):
    first = _ship(license, exporter, first=3)
    again = _ship(license, exporter, first=3)
    assert again.replayed and again.pk == first.pk
    assert _goods(license)[0].used_quantity == 3
    assert AuditEvent.objects.filter(action="shipment_recorded").count() == 1


def test_a_reference_reused_for_another_shipment_is_a_conflict(license, exporter):
    _ship(license, exporter, first=3)
    for changed in ({"first": 4}, {"first": 3, "day": date(2026, 11, 3)}):
        with pytest.raises(TransitionConflict) as refused:
            _ship(license, exporter, **changed)
        assert refused.value.code == "reference_reused"
        assert "reference" in refused.value.errors
    assert _goods(license)[0].used_quantity == 3


def test_shipping_everything_exhausts_the_licence_and_tells_the_exporters(
    license, exporter, teammate
):
    _ship(license, exporter, first=10, second=4)
    license.refresh_from_db()
    assert license.status == "active"  # a line still has some left
    last = _ship(license, exporter, reference="AWB-2", second=6)
    license.refresh_from_db()
    assert license.status == "exhausted"
    event = AuditEvent.objects.get(action="license_exhausted")
    assert (event.from_state, event.to_state, event.actor) == ("active", "exhausted", None)
    told = Notification.objects.filter(event="license_status_changed", subject__contains="exhaust")
    assert {n.recipient for n in told} == {exporter, teammate}

    with pytest.raises(TransitionConflict) as refused:
        _ship(license, exporter, reference="AWB-3", first=1)
    assert refused.value.current_state == "exhausted"
    # The retry of the shipment that exhausted it is still answered, not refused.
    assert _ship(license, exporter, reference="AWB-2", second=6).pk == last.pk


def test_a_licence_that_is_not_active_takes_no_shipment(license, exporter, supervisors):
    license_suspend(license=license, user=supervisors["defense"], reason="Inquiry")
    with pytest.raises(TransitionConflict) as refused:
        _ship(license, exporter, first=1)
    assert refused.value.current_state == "suspended"
    assert not Shipment.objects.exists()


@pytest.mark.parametrize("day", [date(2026, 10, 31), date(2027, 11, 1)])
def test_a_shipment_outside_the_validity_is_refused(license, exporter, day):
    assert (license.valid_from, license.valid_until) == (date(2026, 11, 1), date(2027, 10, 31))
    with pytest.raises(TransitionConflict) as refused:
        _ship(license, exporter, first=1, day=day)
    assert refused.value.code == "outside_validity"
    assert not Shipment.objects.exists()


def test_a_line_of_another_licence_or_a_bad_line_is_invalid(license, exporter, reviewers):
    with time_machine.travel(TODAY, tick=False):
        other = factories.approved(exporter, reviewers).license
    foreign_good = _goods(other)[0].pk
    good = _goods(license)[0].pk
    bad_lines = {
        "lines[0].license_good": [{"license_good": foreign_good, "quantity": 1, "value": 0}],
        "lines[1].license_good": [
            {"license_good": good, "quantity": 1, "value": Decimal(0)},
            {"license_good": good, "quantity": 1, "value": Decimal(0)},
        ],
        "lines[0].quantity": [{"license_good": good, "quantity": 0, "value": Decimal(0)}],
        "lines[0].value": [{"license_good": good, "quantity": 1, "value": Decimal(-1)}],
        "lines": [],
    }
    for field, lines in bad_lines.items():
        with pytest.raises(InvalidInput) as refused:
            shipment_record(
                license=license,
                user=exporter,
                reference="X",
                shipped_on=date(2026, 11, 2),
                lines=lines,
            )
        assert field in refused.value.errors, (field, refused.value.errors)
    assert not Shipment.objects.exists()
    assert not ShipmentLine.objects.exists()


def test_only_an_exporter_of_the_holder_ships_or_surrenders(license, outsider, reviewers):
    for user in (outsider, reviewers["economy"]):
        with pytest.raises(NotPermitted):
            _ship(license, user, first=1)
        with pytest.raises(NotPermitted):
            license_surrender(license=license, user=user, reason="x")


def test_the_holder_surrenders_an_active_or_suspended_licence(
    license, exporter, teammate, reviewers, supervisors
):
    with pytest.raises(InvalidInput):
        license_surrender(license=license, user=exporter, reason=" ")
    license_surrender(license=license, user=exporter, reason="Contract cancelled.")
    license.refresh_from_db()
    assert (license.status, license.status_reason) == ("surrendered", "Contract cancelled.")
    event = AuditEvent.objects.get(action="license_surrendered")
    assert (event.from_state, event.to_state, event.actor) == ("active", "surrendered", exporter)
    assert Notification.objects.filter(
        recipient=teammate, event="license_status_changed", subject__contains="surrendered"
    ).exists()
    with pytest.raises(TransitionConflict):
        license_surrender(license=license, user=exporter, reason="Again.")

    with time_machine.travel(TODAY, tick=False):
        suspended = factories.approved(exporter, reviewers).license
    license_suspend(license=suspended, user=supervisors["defense"], reason="Inquiry")
    assert license_surrender(license=suspended, user=exporter, reason="x").status == "surrendered"


def test_expiry_and_the_sweep_leave_exhausted_and_surrendered_licences_alone(
    license, exporter, reviewers
):
    with time_machine.travel(TODAY, tick=False):
        surrendered = factories.approved(exporter, reviewers).license
    license_surrender(license=surrendered, user=exporter, reason="Done.")
    _ship(license, exporter, first=10, second=10)
    long_after = license.valid_until + timedelta(days=40)
    for day in (license.valid_until - timedelta(days=10), long_after):
        licenses_expire_and_warn(today=day)
        deadlines_sweep(today=day)
    assert {lic.status for lic in License.objects.all()} == {"exhausted", "surrendered"}
    assert not Notification.objects.filter(event__in=["license_expiring", "license_expired"])
    assert not AuditEvent.objects.filter(action="license_expired").exists()


def _race(license, exporter, bodies):
    """Each body recorded from its own thread and connection, all at once."""

    def record(reference, quantity):
        def run():
            return _ship(license, exporter, reference=reference, first=quantity)

        return run

    return _run_in_threads(*[record(reference, quantity) for reference, quantity in bodies])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_shipments_that_together_exceed_what_remains_record_exactly_one(
    exporter, reviewers
):
    with time_machine.travel(TODAY, tick=False):
        license = factories.approved(exporter, reviewers, goods=2).license
    assert connection.vendor == "postgresql"
    with time_machine.travel("2026-11-02 10:00 +02:00", tick=False):
        results = _race(license, exporter, [("AWB-A", 6), ("AWB-B", 6)])
    recorded = [r for r in results if isinstance(r, Shipment)]
    refused = [r for r in results if isinstance(r, TransitionConflict)]
    assert len(recorded) == 1, results
    assert len(refused) == 1, results
    assert refused[0].code == "exceeds_remaining"
    assert Shipment.objects.count() == 1
    assert _goods(license)[0].used_quantity == 6
    assert AuditEvent.objects.filter(action="shipment_recorded").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_shipment_sent_twice_at_once_is_recorded_once(exporter, reviewers):
    with time_machine.travel(TODAY, tick=False):
        license = factories.approved(exporter, reviewers, goods=2).license
    with time_machine.travel("2026-11-02 10:00 +02:00", tick=False):
        results = _race(license, exporter, [("AWB-A", 4), ("AWB-A", 4)])
    assert all(isinstance(r, Shipment) for r in results), results
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].pk == results[1].pk
    assert _goods(license)[0].used_quantity == 4
    assert AuditEvent.objects.filter(action="shipment_recorded").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_shipment_waits_for_the_licence_lock(exporter, reviewers):
    """The second shipment reads what remains only after the first commits."""
    with time_machine.travel(TODAY, tick=False):
        license = factories.approved(exporter, reviewers, goods=1).license
    from django.db import transaction

    holding = threading.Event()

    def first():
        with transaction.atomic():
            result = _ship(license, exporter, reference="AWB-A", first=7)
            holding.set()
            threading.Event().wait(0.5)
        return result

    def second():
        holding.wait(timeout=10)
        return _ship(license, exporter, reference="AWB-B", first=7)

    results = _run_in_threads(first, second)
    assert isinstance(results[0], Shipment), results
    assert isinstance(results[1], TransitionConflict), results


def test_every_problem_of_a_shipment_is_answered_at_once(license, exporter):
    first, second = _goods(license)
    lines = [
        {"license_good": first.pk, "quantity": 0, "value": Decimal(0)},
        {"license_good": second.pk, "quantity": 11, "value": Decimal(100)},
    ]
    with pytest.raises(InvalidInput) as refused:
        shipment_record(
            license=license, user=exporter, reference=" ", shipped_on=date(2026, 11, 2), lines=lines
        )
    # Not the reference first, then the quantity: every one, the overdraw with them.
    assert list(refused.value.errors) == ["reference", "lines[0].quantity", "lines[1].quantity"]
    with pytest.raises(TransitionConflict) as late:
        _ship(license, exporter, first=11, day=date(2028, 1, 3))
    assert late.value.code == "exceeds_remaining"
    assert list(late.value.errors) == ["shipped_on", "lines[0].quantity", "lines[0].value"]
    assert not Shipment.objects.exists()
