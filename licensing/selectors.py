"""Reads: who sees what, and who is told what."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.models import Role, User
from licensing import policies
from licensing.models import (
    AppealPolicy,
    Application,
    ApplicationStatus,
    AuditEvent,
    ControlListEntry,
    Country,
    DeadlinePolicy,
    License,
    LicenseGood,
    OtherParty,
    RefusalCriterion,
    Review,
    RoutingRule,
    ScreeningMatch,
    Shipment,
    ShipmentLine,
)
from licensing.reference_cache import cached

S = ApplicationStatus


def applications_visible_to(user: User) -> QuerySet[Application]:
    """Applications the user may see; anything else answers 404, so existence never leaks."""
    qs = Application.objects.all()
    if user.is_administrator:
        return qs
    if user.role == Role.EXPORTER:
        return qs.filter(organisation_id=user.organisation_id)
    if user.is_ministry_staff:
        return qs.exclude(status=S.DRAFT).filter(
            id__in=Review.objects.filter(ministry=user.ministry).values("application_id")
        )
    if user.is_committee:
        # Disputed applications to settle, and every decided one: the committee
        # also revokes licenses, so it sees each approved case behind one.
        return qs.filter(status__in=COMMITTEE_STATES)
    return qs.none()


_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def application_locked_for(user: User, pk: int) -> Application | None:
    """The application `pk` if `user` may see it (None otherwise), with its organisation,
    read with `SELECT ... FOR UPDATE` of its own row: what an action on it starts with
    (`licensing.services.common.holding`)."""
    if not _BIGINT_MIN <= pk <= _BIGINT_MAX:
        return None  # no such row (and SQLite refuses the number)
    rows = (
        applications_visible_to(user).select_related("organisation").select_for_update(of=("self",))
    )
    try:
        return rows.get(pk=pk)
    except Application.DoesNotExist:
        return None


# What the committee sees: its work (disputes, appeals) and every decided case.
DECIDED_STATES = [S.APPROVED, S.DENIED, S.PARTIALLY_APPROVED]
COMMITTEE_STATES = [S.DISPUTED, S.UNDER_APPEAL, *DECIDED_STATES]


def with_parties_and_matches(applications: Iterable[Application], *, matches: bool) -> None:
    """Load the other parties (and, for staff, the screening matches) of applications
    already read, in one query per relation, and none at all for those whose counters
    say they have no rows: most cases have neither."""
    relations = [
        ("other_parties", "other_party_count", OtherParty.objects.select_related("country"))
    ]
    if matches:
        relations.append(
            (
                "screening_matches",
                "screening_match_count",
                ScreeningMatch.objects.select_related("resolved_by"),
            )
        )
    rows = list(applications)
    for relation, counter, queryset in relations:
        pending = [a for a in rows if relation not in getattr(a, "_prefetched_objects_cache", {})]
        for application in pending:
            if not getattr(application, counter):
                if not hasattr(application, "_prefetched_objects_cache"):
                    application._prefetched_objects_cache = {}
                application._prefetched_objects_cache[relation] = queryset.none()
        prefetch_related_objects(
            [a for a in pending if getattr(a, counter)], Prefetch(relation, queryset=queryset)
        )


def screening_matches_visible_to(user: User) -> QuerySet[ScreeningMatch]:
    """Matches are the staff's: those of the applications they see; an exporter sees none."""
    from licensing import policies

    if not policies.sees_screening(user):
        return ScreeningMatch.objects.none()
    return ScreeningMatch.objects.filter(application__in=applications_visible_to(user))


def events_visible_to(user: User, application: Application) -> QuerySet[AuditEvent]:
    """An application's audit trail as the user may read it: all of it for staff, the
    allow-list `policies.EXPORTER_EVENTS` for an exporter (the case page's timeline and the
    API's events alike)."""
    events = AuditEvent.objects.filter(application=application)
    if policies.sees_exporter_view(user):
        events = events.filter(action__in=policies.EXPORTER_EVENTS)
    return events


def disputed(applications: QuerySet[Application]) -> QuerySet[Application]:
    """The committee's work: cases the ministries disagree on, or referred to it."""
    return applications.filter(status=S.DISPUTED)


def under_appeal(applications: QuerySet[Application]) -> QuerySet[Application]:
    """The committee's appeals queue: open appeals, soonest due first."""
    return (
        applications.filter(status=S.UNDER_APPEAL)
        .select_related("appeal")
        .order_by("appeal__due_date", "id")
    )


def decided(applications: QuerySet[Application]) -> QuerySet[Application]:
    return applications.filter(status__in=DECIDED_STATES)


def reviews_visible_to(user: User) -> QuerySet[Review]:
    qs = Review.objects.exclude(application__status=S.DRAFT)
    if user.is_administrator:
        return qs
    if user.is_ministry_staff:
        return qs.filter(ministry=user.ministry)
    return qs.none()


def licenses_visible_to(user: User) -> QuerySet[License]:
    """The licence list (page and API) and every licence action start here."""
    qs = License.objects.all()
    if policies.sees_every_license(user):
        # They may suspend or revoke any licence, so they see every one.
        return qs
    if user.role == Role.EXPORTER:
        return qs.filter(organisation_id=user.organisation_id)
    if user.is_ministry_staff:
        return qs.filter(
            application_id__in=Review.objects.filter(ministry=user.ministry).values(
                "application_id"
            )
        )
    return qs.none()


_GOOD_FIELDS = (
    "id",
    "good_id",
    "description",
    "control_list_entry_id",
    "quantity",
    "value",
    "currency",
    "used_quantity",
    "used_value",
)


def license_goods_and_shipments(license: License) -> tuple[list[LicenseGood], list[Shipment]]:
    """A licence's goods and its shipments (newest first) with their lines, in one query.

    One row per good and line (a good never shipped: one row without a line);
    the licence page shows both, within the case page's query budget.
    """
    rows = (
        LicenseGood.objects.filter(license=license)
        .values(
            *_GOOD_FIELDS,
            "control_list_entry__code",
            "shipment_lines__id",
            "shipment_lines__quantity",
            "shipment_lines__value",
            "shipment_lines__shipment_id",
            "shipment_lines__shipment__reference",
            "shipment_lines__shipment__shipped_on",
            "shipment_lines__shipment__created_at",
        )
        .order_by("id", "shipment_lines__id")
    )
    goods: dict[int, LicenseGood] = {}
    shipments: dict[int, Shipment] = {}
    for row in rows:
        good = goods.get(row["id"])
        if good is None:
            good = LicenseGood(license=license, **{name: row[name] for name in _GOOD_FIELDS})
            good.control_list_entry = ControlListEntry(
                pk=row["control_list_entry_id"], code=row["control_list_entry__code"]
            )
            goods[good.pk] = good
        shipment_id = row["shipment_lines__shipment_id"]
        if shipment_id is None:
            continue
        shipment = shipments.get(shipment_id)
        if shipment is None:
            shipment = shipments[shipment_id] = Shipment(
                pk=shipment_id,
                license=license,
                reference=row["shipment_lines__shipment__reference"],
                shipped_on=row["shipment_lines__shipment__shipped_on"],
                created_at=row["shipment_lines__shipment__created_at"],
            )
            shipment.shown_lines = []
        line = ShipmentLine(
            pk=row["shipment_lines__id"],
            shipment=shipment,
            license_good=good,
            quantity=row["shipment_lines__quantity"],
            value=row["shipment_lines__value"],
        )
        shipment.shown_lines.append(line)
    newest_first = sorted(shipments.values(), key=lambda s: (s.created_at, s.pk), reverse=True)
    return list(goods.values()), newest_first


def ministry_staff(ministry: str, *, roles: tuple[str, ...] = (Role.REVIEWER, Role.SUPERVISOR)):
    return User.objects.filter(is_active=True, ministry=ministry, role__in=roles)


def submission_recipients(
    organisation_id: int, ministries: list[str]
) -> tuple[list[User], dict[str, list[User]]]:
    """In one query: the organisation's exporters, and each ministry's staff by ministry."""
    people = User.objects.filter(is_active=True).filter(
        Q(role=Role.EXPORTER, organisation_id=organisation_id)
        | Q(role__in=(Role.REVIEWER, Role.SUPERVISOR), ministry__in=ministries)
    )
    exporters: list[User] = []
    staff: dict[str, list[User]] = {}
    for person in people:
        if person.role == Role.EXPORTER:
            exporters.append(person)
        else:
            staff.setdefault(person.ministry, []).append(person)
    return exporters, staff


def ministry_colleagues(review: Review | None) -> QuerySet[User]:
    """Who a review may be assigned to: the active reviewers and supervisors of its ministry."""
    return ministry_staff(review.ministry if review is not None else "")


def ministry_supervisors(ministry: str):
    return ministry_staff(ministry, roles=(Role.SUPERVISOR,))


def committee_members():
    return User.objects.filter(is_active=True, role=Role.COMMITTEE)


def organisation_exporters(organisation_id: int):
    return User.objects.filter(is_active=True, role=Role.EXPORTER, organisation_id=organisation_id)


# Reference data, from the cache (licensing.reference_cache drops it on every change).


def deadline_policies() -> dict[str, DeadlinePolicy]:
    """Each ministry's deadline policy, its escalation steps loaded, by ministry."""

    def load() -> dict[str, DeadlinePolicy]:
        return {p.ministry: p for p in DeadlinePolicy.objects.prefetch_related("steps")}

    return cached("policies", load)


def routing_rules() -> list[RoutingRule]:
    """Every active rule in priority order, its country list loaded; dates are checked by
    `RoutingRule.in_force_on`, so one cached list serves every day."""

    def load() -> list[RoutingRule]:
        return list(
            RoutingRule.objects.filter(active=True)
            .select_related("destination_list")
            .prefetch_related("destination_list__countries")
        )

    return cached("rules", load)


def rule_versions() -> dict[int, tuple[int | None, int | None]]:
    """Each rule's current version: (its history record id, its number among the rule's own).

    Version 1 is the rule as created, 2 after its first edit, and so on; the
    history id finds that exact version in the admin's history.
    """

    def load() -> dict[int, tuple[int | None, int | None]]:
        versions: dict[int, tuple[int | None, int | None]] = {}
        counts: dict[int, int] = {}
        history = RoutingRule.history.model.objects.order_by("history_id")
        for rule_id, history_id in history.values_list("id", "history_id"):
            counts[rule_id] = counts.get(rule_id, 0) + 1
            versions[rule_id] = (history_id, counts[rule_id])
        return versions

    return cached("rule_versions", load)


def countries_by_code() -> dict[str, Country]:
    return cached("countries", lambda: {c.code: c for c in Country.objects.all()})


def control_entries_by_code() -> dict[str, ControlListEntry]:
    return cached("control_entries", lambda: {e.code: e for e in ControlListEntry.objects.all()})


def refusal_criteria() -> dict[str, RefusalCriterion]:
    """Every refusal criterion by code (retired ones too: old refusals still cite them)."""
    return cached("criteria", lambda: {c.code: c for c in RefusalCriterion.objects.all()})


def appeal_policy() -> AppealPolicy:
    """The committee's appeal deadline policy (the seeded row, or its defaults)."""
    return cached("appeal_policy", lambda: AppealPolicy.objects.first() or AppealPolicy())


def _comparable_application(application: Application) -> dict[str, object]:
    """An application's fields as the API names them (`end_user.country`), plain values."""
    from licensing.models.applications import APPLICATION_FIELDS

    values: dict[str, object] = {}
    for name in APPLICATION_FIELDS:
        if name == "marketing_license":
            marketing = application.marketing_license
            values[name] = marketing.number if marketing else None
            continue
        value = getattr(application, application._meta.get_field(name).attname)
        shown = name
        for party in ("end_user", "consignee"):
            if name.startswith(f"{party}_"):
                shown = f"{party}.{name.removeprefix(f'{party}_')}"
        values[shown] = value
    return values


def _comparable_good(good) -> dict[str, object]:
    return {
        "description": good.description,
        "control_list_entry": good.control_list_entry.code,
        "quantity": good.quantity,
        "unit_value": f"{good.unit_value:.2f}",
        "currency": good.currency,
        "technology_generation": good.technology_generation,
        "us_origin_content": good.us_origin_content,
    }


def amendment_changes(application: Application) -> list[dict[str, object]]:
    """What an amendment changed from what it amends: the application it copied, or the
    licence (its application's parties, its goods as licensed). Goods are compared by
    position (1 for the first). Empty for an application that amends nothing."""
    from licensing.models import Good

    def goods_of(app: Application) -> list[dict[str, object]]:
        # The page has the amendment's goods prefetched already: no second read.
        goods = getattr(app, "_prefetched_objects_cache", {}).get("goods")
        if goods is None:
            goods = Good.objects.filter(application=app).select_related("control_list_entry")
        return [_comparable_good(good) for good in goods]

    if application.amendment_of_id:
        base = Application.objects.select_related("marketing_license").get(
            pk=application.amendment_of_id
        )
        base_goods = goods_of(base)
    elif application.amends_license_id:
        license = License.objects.select_related("application__marketing_license").get(
            pk=application.amends_license_id
        )
        base = license.application
        base_goods = []
        for line in license.goods.select_related("good", "control_list_entry"):
            good = line.good
            good.description, good.quantity = line.description, line.quantity
            good.control_list_entry = line.control_list_entry
            base_goods.append(_comparable_good(good))
    else:
        return []
    changes: list[dict[str, object]] = []
    before, after = _comparable_application(base), _comparable_application(application)
    for name, value in after.items():
        if before[name] != value:
            changes.append({"field": name, "from": before[name], "to": value})
    now = goods_of(application)
    for position in range(1, max(len(base_goods), len(now)) + 1):
        if position > len(base_goods):
            changes.append({"good": position, "change": "added"})
        elif position > len(now):
            changes.append({"good": position, "change": "removed"})
        else:
            old, new = base_goods[position - 1], now[position - 1]
            changes.extend(
                {"good": position, "field": name, "from": old[name], "to": new[name]}
                for name in new
                if old[name] != new[name]
            )
    return changes
