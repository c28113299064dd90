"""What every chunk of the bulk seeder reads once: the demo people, the rules, the clock.

`World.load` reads them at the start of a run; its helpers memoise what a million cases
share (working-day dates, routing results, email bodies). `Ids` hands out primary keys
before the rows are written, since COPY returns none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

from accounts.models import Ministry, RegisterStatus, Role, User
from licensing.clock import WorkingCalendar, local_today
from licensing.models import (
    Application,
    ControlListEntry,
    DeadlinePolicy,
    LicenseValidity,
    Regime,
    ScreeningEntry,
)
from licensing.notifications import _render_text
from licensing.routing import route, rules_in_force
from licensing.selectors import (
    appeal_policy,
    committee_members,
    ministry_staff,
    organisation_exporters,
    rule_versions,
)

if TYPE_CHECKING:
    from licensing.demo.planning import PlannedApplication, PlannedGood

DUAL_USE_CODES = ["6A003", "6A002", "9A012", "5A002", "3A001", "1C010", "7A003", "6A008"]
ROUTES_KEPT = 20000
REFERENCE_MARK = "\x00reference\x00"
LICENCE_MARK = "\x00licence\x00"


@dataclass
class World:
    rng: random.Random
    now: datetime
    today: date
    tz: Any
    calendar: WorkingCalendar
    policies: dict[str, DeadlinePolicy]
    steps: dict[str, list]
    rules: list
    versions: dict
    dual_use: list[ControlListEntry]
    munitions: list[ControlListEntry]
    exporter: User
    reviewers: dict[str, User]
    committee_member: User
    exporters: list[int]
    staff: dict[str, list[int]]
    supervisors: dict[str, list[int]]
    committee: list[int]
    validity: dict[str, int]
    ids: dict[type[models.Model], Ids]
    cache: dict[tuple, Any]  # dates and email bodies: a few thousand shapes at most
    routes: dict[tuple, Any]
    value_rules: bool = False  # some rule looks at the total value
    appeal_days: int = 20  # the committee's working days to decide an appeal
    listed: list[tuple] = field(default_factory=list)  # screening entries an end user may be

    @classmethod
    def load(cls, seed: int | None) -> World:
        exporter = (
            User.objects.filter(
                role=Role.EXPORTER,
                is_active=True,
                organisation__register_status=RegisterStatus.REGISTERED,
            )
            .order_by("pk")
            .first()
        )
        reviewers = {
            m: User.objects.filter(role=Role.REVIEWER, ministry=m, is_active=True)
            .order_by("pk")
            .first()
            for m in Ministry.values
        }
        committee_member = committee_members().order_by("pk").first()
        if exporter is None or None in reviewers.values() or committee_member is None:
            raise RuntimeError(
                "Seeding applications needs the demo people: run `manage.py seed_demo` first."
            )
        today = local_today()
        policies = {p.ministry: p for p in DeadlinePolicy.objects.prefetch_related("steps")}
        rules = list(rules_in_force(today))
        entries = list(ControlListEntry.objects.all())
        return cls(
            rng=random.Random(seed if seed is not None else Application.objects.count()),  # noqa: S311 - demo data
            now=timezone.now(),
            today=today,
            tz=timezone.get_current_timezone(),
            calendar=WorkingCalendar.load(),
            policies=policies,
            steps={m: list(p.steps.all()) for m, p in policies.items()},
            rules=rules,
            versions=rule_versions(),
            dual_use=[e for e in entries if e.code in DUAL_USE_CODES],
            munitions=[e for e in entries if e.regime == Regime.MUNITIONS],
            exporter=exporter,
            reviewers=reviewers,
            committee_member=committee_member,
            exporters=_ids(organisation_exporters(exporter.organisation_id)),
            staff={m: _ids(ministry_staff(m)) for m in Ministry.values},
            supervisors={
                m: _ids(ministry_staff(m, roles=(Role.SUPERVISOR,))) for m in Ministry.values
            },
            committee=_ids(committee_members()),
            validity=dict(LicenseValidity.objects.values_list("license_type", "years")),
            ids={},
            cache={},
            routes={},
            value_rules=any(rule.min_total_value is not None for rule in rules),
            appeal_days=appeal_policy().decision_days,
            listed=list(
                ScreeningEntry.objects.order_by("pk").values_list(
                    "pk", "name", "list_id", "list__name"
                )[:200]
            ),
        )

    # The working-day clock, memoised: a few hundred distinct dates serve a million reviews.
    def add_days(self, day: date, days: int) -> date:
        key = ("+", day, days)
        if key not in self.cache:
            self.cache[key] = self.calendar.add_working_days(day, days)
        return self.cache[key]

    def minus_days(self, day: date, days: int) -> date:
        key = ("-", day, days)
        if key not in self.cache:
            self.cache[key] = self.calendar.subtract_working_days(day, days)
        return self.cache[key]

    def midnight(self, day: date) -> datetime:
        """The start of a local day, in UTC."""
        key = ("0", day)
        if key not in self.cache:
            self.cache[key] = datetime.combine(day, time(), tzinfo=self.tz).astimezone(UTC)
        return self.cache[key]

    def route(self, application: PlannedApplication, goods: list[PlannedGood]):
        """`licensing.routing.route` with the rules read once, memoised on what they look at."""
        total = sum(g.value for g in goods) if self.value_rules else None
        key = (
            application.license_type,
            application.destination_id,
            application.military_end_use,
            total,
            tuple(
                (g.control_list_entry, g.description, g.technology_generation, g.us_origin_content)
                for g in goods
            ),
        )
        result = self.routes.get(key)
        if result is None:
            if len(self.routes) >= ROUTES_KEPT:  # memory stays flat over a million cases
                self.routes.clear()
            # The end user is in the destination, the other parties in countries on no
            # list (PARTY_COUNTRIES): the destination decides, as routing with them would.
            result = self.routes[key] = route(
                application=application, goods=goods, on=self.today, rules=self.rules, parties=()
            )
        return result

    def body(
        self, event: str, subject: str, context: dict, reference: str, licence: str | None
    ) -> str:
        """`notify`'s text body, rendered once per shape with stand-ins for the numbers.

        A hundred thousand cases share a few hundred shapes (event, ministry, due
        date, ...); only the reference and the licence number differ, and the
        text templates print them as they are, so they are put in afterwards.
        """
        marks = {reference: REFERENCE_MARK}
        if licence:
            marks[licence] = LICENCE_MARK
        shape = {k: marks.get(v, v) if isinstance(v, str) else v for k, v in context.items()}
        shape_subject = subject.replace(reference, REFERENCE_MARK)
        key = ("body", event, shape_subject, repr(shape))
        text = self.cache.get(key)
        if text is None:
            text = self.cache[key] = _render_text(
                f"emails/{event}.txt",
                {"subject": shape_subject, **shape, "reference": REFERENCE_MARK},
            )
        text = text.replace(REFERENCE_MARK, reference)
        return text.replace(LICENCE_MARK, licence) if licence else text

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()


def _ids(queryset) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True))


class Ids:
    """Primary keys handed out before the rows are written (COPY returns none)."""

    BLOCK = 5000

    def __init__(self, model: type[models.Model]) -> None:
        self.table = model._meta.db_table
        self.free: list[int] = []
        self.next = 0

    def reserve(self, n: int) -> list[int]:
        """Exactly n ascending ids, none of them used by anyone else."""
        if n <= 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, n],
                )
                return sorted(row[0] for row in cursor.fetchall())
            # Elsewhere (SQLite) the chunk's transaction holds the database's write lock.
            table = connection.ops.quote_name(self.table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - model's table
            start = max(cursor.fetchone()[0] + 1, self.next)
            self.next = start + n
            return list(range(start, start + n))

    def take(self) -> int:
        if not self.free:
            self.free = self.reserve(self.BLOCK)[::-1]
        return self.free.pop()

    def restart(self) -> None:
        """Forget ids held from the last chunk where they are not reserved (SQLite)."""
        if connection.vendor != "postgresql":
            self.free = []
