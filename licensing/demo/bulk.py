"""Bulk demo data: N applications across every state, thousands a second, in constant memory.

`seed_applications(count)` writes what the services would have written had
people taken each case to its state: the application and its goods, the
routing decisions (the real rules, through `licensing.routing.route`), the
reviews with due dates from the working-day clock, questions, licences, the
outbox rows (already sent: the worker mails nobody) and the audit events,
hashed with `licensing.audit.event_hash` onto the live chain.

It does not call the services one case at a time: each chunk of
`chunk_size` applications is planned in memory, given ids and reference
numbers in one go, and written with one `COPY` per table on PostgreSQL (one
`executemany` elsewhere), in one transaction. While a chunk is written it
holds the audit chain's head (so live appends wait, and the chain never
forks) and the reference counters (so live submissions take the next free
number).

Cases are spread over the past months the way a live system has them: drafts
and open cases recent, decided ones older; some reviews are overdue (their
reminders and the escalation steps already due are recorded as sent), some
due soon, and no case is left in a state the deadline sweep would have moved
on (a Foreign review past its deemed-consent date, an Economy review past its
committee referral).
"""

from __future__ import annotations

import gc
import json
import operator
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Ministry, RegisterStatus, Role, User
from licensing import page_cache
from licensing.audit import HASHED_FIELDS, event_hash, lock_chain_head
from licensing.clock import WorkingCalendar, local_today
from licensing.models import (
    SYSTEM,
    Appeal,
    Application,
    ApplicationStatus,
    AuditEvent,
    ControlListEntry,
    DeadlinePolicy,
    DeliveryStatus,
    EscalationAction,
    Good,
    GoodOutcome,
    InformationRequest,
    License,
    LicenseGood,
    LicenseStatus,
    LicenseType,
    LicenseValidity,
    MatchStatus,
    Notification,
    NotificationEvent,
    OtherParty,
    PartyKind,
    Recommendation,
    ReferenceCounter,
    Regime,
    Review,
    ReviewStatus,
    RoutingDecision,
    ScreeningEntry,
    ScreeningMatch,
)
from licensing.models.licenses import new_verification_code
from licensing.notifications import _render_text
from licensing.routing import route, rules_in_force
from licensing.selectors import (
    appeal_policy,
    committee_members,
    ministry_staff,
    organisation_exporters,
    rule_versions,
)
from licensing.services.licenses import _add_years

S = ApplicationStatus
R = ReviewStatus

# One cycle of twenty: every state within the first ten, then roughly the shares
# of a working system (a fifth open under review, a third approved). Each superseded
# case is amended by one of the cases under review of its chunk.
STATE_MIX = [
    S.DRAFT,
    S.UNDER_REVIEW,
    S.INFORMATION_REQUESTED,
    S.APPROVED,
    S.DENIED,
    S.DISPUTED,
    S.WITHDRAWN,
    S.PARTIALLY_APPROVED,
    S.UNDER_APPEAL,
    S.SUPERSEDED,
    S.APPROVED,
    S.UNDER_REVIEW,
    S.DRAFT,
    S.UNDER_REVIEW,
    S.APPROVED,
    S.INFORMATION_REQUESTED,
    S.DENIED,
    S.APPROVED,
    S.UNDER_REVIEW,
    S.APPROVED,
]

DESTINATIONS = ["US", "DE", "GB", "FR", "IN", "CN", "JP", "AU", "CA", "PL", "BR", "SG", "KR", "IT"]
SENSITIVE = ["IN", "CN"]
DUAL_USE_CODES = ["6A003", "6A002", "9A012", "5A002", "3A001", "1C010", "7A003", "6A008"]
ITEMS = ["thermal camera", "UAV airframe", "encryption module", "radar assembly", "gyroscope"]
END_USERS = ["Orion Systems", "Helix Research", "Northwind Aviation", "Atlas Optics", "Kestrel"]
MOVING_STEPS = frozenset({EscalationAction.DEEM_NO_OBJECTION, EscalationAction.REFER_TO_COMMITTEE})
CONDITIONS = "No re-export without the ministry's prior written consent."
DENY_REASON = "The end-user assurances do not cover the stated end use."
QUESTION = "Please attach the end-user certificate signed by the end user."
COMMITTEE_REASON = "The committee accepts the end-user assurances."
COMMITTEE_DENY_REASON = "The committee finds the diversion risk too high."
# The refusal criteria (EU Common Position 2008/944/CFSP) a seeded deny cites.
CRITERIA_CITED = [["7"], ["2"], ["4", "7"], ["1"], ["7", "8"]]
COMMITTEE_CRITERIA = ["7"]
APPEAL_GROUNDS = "The end user has since given further assurances."
ROUTES_KEPT = 20000
# Other parties sit in countries on no country list, so routing (memoised without them)
# stays what the rules say; a share of submitted cases has an end user on a screening list.
PARTY_COUNTRIES = ["DE", "FR", "NL", "BE", "GB", "US", "SG", "JP", "CH", "AT"]
PARTY_NAMES = ["Meridian Freight", "Baltic Forwarding", "Apex Brokers", "Delta Logistics"]
OTHER_PARTY_SHARE = 0.3
SCREENED_SHARE = 0.03
CLEARED_REASON = "A namesake: another registry number and address."
CONFIRMED_REASON = "The same registry number as the listed entity."
REFERENCE_MARK = "\x00reference\x00"
LICENCE_MARK = "\x00licence\x00"


@dataclass
class SeedReport:
    applications: int = 0
    events: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


def seed_applications(
    count: int,
    *,
    chunk_size: int = 5000,
    seed: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> SeedReport:
    """Add `count` applications across every state; `progress(n)` after each chunk of n.

    Needs the demo people (`seed_demo` makes them): an exporter of a registered
    organisation, a reviewer per ministry and a committee member.
    """
    world = _World.load(seed)
    report = SeedReport()
    done = 0
    while done < count:
        size = min(chunk_size, count - done)
        targets = [STATE_MIX[(done + i) % len(STATE_MIX)] for i in range(size)]
        # A chunk is a hundred thousand small dicts and no cycles: the cyclic collector
        # would walk them again and again for nothing. Once per chunk is enough.
        gc.disable()
        try:
            with transaction.atomic():
                events = _Chunk(world, targets).write()
        finally:
            gc.enable()
        done += size
        report.applications += size
        report.events += events
        for target in targets:
            report.by_state[target] = report.by_state.get(target, 0) + 1
        if progress:
            progress(size)
    return report


# --- what every chunk reads once -------------------------------------------------------------


@dataclass
class _World:
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
    ids: dict[type[models.Model], _Ids]
    cache: dict[tuple, Any]  # dates and email bodies: a few thousand shapes at most
    routes: dict[tuple, Any]
    value_rules: bool = False  # some rule looks at the total value
    appeal_days: int = 20  # the committee's working days to decide an appeal
    listed: list[tuple] = field(default_factory=list)  # screening entries an end user may be

    @classmethod
    def load(cls, seed: int | None) -> _World:
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

    def route(self, application: _Case, goods: list[_Good]):
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


class _Ids:
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


# --- one chunk -------------------------------------------------------------------------------


@dataclass
class _ReviewPlan:
    ministry: str
    received_on: date
    due: date
    quiet_until: datetime  # before this no reminder or escalation step applies
    status: str = R.PENDING
    assigned: bool = False
    claimed_at: datetime | None = None
    completed_at: datetime | None = None
    recommendation: str = ""
    reason: str = ""
    conditions: str = ""
    reminder_sent: bool = False
    escalation_level: int = 0
    criteria: list[str] = field(default_factory=list)
    goods_recommendations: list[dict] = field(default_factory=list)
    id: int = 0


@dataclass(slots=True)
class _Case:
    """What routing reads of an application (a model instance costs ten times more to make)."""

    license_type: str
    destination_id: str
    military_end_use: bool
    currency: str
    id: int = 0
    reference: str = ""


@dataclass(slots=True)
class _Good:
    """What routing reads of a good."""

    control_list_entry: ControlListEntry
    description: str
    quantity: int
    unit_value: Decimal
    currency: str
    technology_generation: str
    us_origin_content: bool
    id: int = 0  # reserved when written, for the licence's lines

    @property
    def value(self) -> Decimal:
        return self.unit_value * self.quantity


@dataclass
class _Plan:
    target: str
    application: _Case
    goods: list[_Good]
    two_opinions: bool = False  # sent where two ministries review it, so they can disagree
    ministries: list[str] = field(default_factory=list)
    matches: list = field(default_factory=list)
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    reviews: list[_ReviewPlan] = field(default_factory=list)
    asked_at: datetime | None = None
    withdrawn_at: datetime | None = None
    concluded_at: datetime | None = None  # the last review completed
    committee_at: datetime | None = None  # the committee decided
    outcome: str = ""  # approved, denied or disputed once every review is in
    final: str = ""  # the state it ends in
    amendment: _Plan | None = None  # a superseded case: the case that amended it
    amends: _Plan | None = None  # an amendment: the case it superseded
    appealed_at: datetime | None = None
    committee_criteria: list[str] = field(default_factory=list)

    @property
    def decided_state(self) -> str:
        """The state the decision left it in (an appeal lodged since aside)."""
        return S.DENIED if self.final == S.UNDER_APPEAL else self.final


class _Chunk:
    """Plan a chunk of applications, number them, and write every row they need."""

    def __init__(self, world: _World, targets: list[str]) -> None:
        self.w = world
        self.targets = targets
        self.rows: dict[type[models.Model], list[dict]] = defaultdict(list)
        self.events: list[dict] = []

    def ids(self, model: type[models.Model]) -> int:
        pool = self.w.ids.get(model)
        if pool is None:
            pool = self.w.ids[model] = _Ids(model)
        return pool.take()

    def write(self) -> int:
        plans = [self._plan(t) for t in self.targets]
        self._pair_amendments(plans)
        plans.sort(key=lambda p: p.created_at)
        # Locks in the services' order: the chain's head, then the counters (an approval
        # appends its event, then numbers its licence). With the head held no one else
        # appends, so the database numbers the events in the order they are written: the
        # chain's order.
        head = lock_chain_head()
        references = _take_numbers("EXP", [p.created_at.astimezone(self.w.tz).year for p in plans])
        approved = [p for p in plans if p.final in (S.APPROVED, S.PARTIALLY_APPROVED)]
        licence_numbers = _take_numbers(
            "LIC", [self._decided_at(p).astimezone(self.w.tz).year for p in approved]
        )
        numbers = dict(zip(map(id, approved), licence_numbers, strict=True))
        for pool in self.w.ids.values():
            pool.restart()
        for plan, reference in zip(plans, references, strict=True):
            # Amendments and the cases they supersede point at each other: ids first.
            plan.application.id = self.ids(Application)
            plan.application.reference = reference
        for plan in plans:
            self._materialise(plan, plan.application.reference, numbers.get(id(plan)))
        prev = head.last_hash
        for event in self.events:
            event["prev_hash"] = prev
            event["hash"] = prev = event_hash(**{k: event[k] for k in HASHED_FIELDS})
        self.rows[AuditEvent] = self.events
        for model in (
            Application,
            OtherParty,
            ScreeningMatch,
            Good,
            Review,
            Appeal,
            RoutingDecision,
            InformationRequest,
            License,
            LicenseGood,
            AuditEvent,
            Notification,
        ):
            _copy(model, self.rows.get(model, []))
        if self.events:
            head.last_hash = prev
            head.save(update_fields=["last_hash"])
        return len(self.events)

    # Planning: content, routing, and when each thing happened.

    def _plan(self, target: str) -> _Plan:
        w = self.w
        rng = w.rng
        two_opinions = target == S.DISPUTED or (
            target in (S.APPROVED, S.DENIED) and rng.random() < 0.2
        )
        munitions = rng.random() < 0.25
        # A partial approval approves some goods and refuses others: two at least.
        k = 2 if target == S.PARTIALLY_APPROVED else rng.randint(1, 2)
        if munitions:
            license_type = LicenseType.MARKETING
            entries = rng.sample(w.munitions, k=k)
        else:
            license_type = LicenseType.DUAL_USE_EXPORT
            entries = rng.sample(w.dual_use, k=k)
        destination = rng.choice(SENSITIVE if two_opinions else DESTINATIONS)
        application = _Case(
            license_type=license_type,
            destination_id=destination,
            military_end_use=not munitions and rng.random() < 0.1,
            currency="USD",
        )
        goods = [
            _Good(
                control_list_entry=entry,
                description=f"{rng.choice(ITEMS).capitalize()} model {rng.randint(1, 12) * 100}",
                quantity=rng.randint(1, 50),
                unit_value=Decimal(rng.randint(1000, 250000)),
                currency="USD",
                technology_generation=rng.choice(["current", "previous", "legacy"]),
                us_origin_content=rng.random() < 0.15,
            )
            for entry in entries
        ]
        plan = _Plan(target=target, application=application, goods=goods)
        plan.two_opinions = two_opinions
        result = w.route(application, goods)
        plan.ministries, plan.matches = result.ministries, result.matches
        getattr(self, f"_time_{target}")(plan)
        return plan

    def _submit_at(self, plan: _Plan, submitted: datetime) -> None:
        w = self.w
        plan.submitted_at = submitted
        plan.created_at = submitted - timedelta(minutes=w.rng.uniform(10, 7 * 24 * 60))
        received = w.local_date(submitted)
        plan.reviews = []
        for ministry in plan.ministries:
            policy = w.policies[ministry]
            due = w.add_days(received, policy.review_days)
            if policy.reminder_days_before:
                quiet = w.midnight(w.minus_days(due, policy.reminder_days_before))
            else:
                quiet = w.midnight(due + timedelta(days=1))
            plan.reviews.append(_ReviewPlan(ministry, received, due, quiet))

    def _days_ago(self, low: float, high: float) -> datetime:
        return self.w.now - timedelta(days=self.w.rng.uniform(low, high))

    def _quiet_until(self, plan: _Plan) -> datetime:
        return min([r.quiet_until for r in plan.reviews] + [self.w.now])

    def _time_draft(self, plan: _Plan) -> None:
        plan.created_at = self._days_ago(0, 45)
        plan.final = S.DRAFT

    def _time_under_review(self, plan: _Plan) -> None:
        """Submitted lately; never past a step that would have moved the case on."""
        w = self.w
        window = 40.0
        while True:
            self._submit_at(plan, self._days_ago(0, window))
            if window < 1 or not any(self._moving_step_due(r) for r in plan.reviews):
                break
            window /= 2
        for review in plan.reviews:
            if w.rng.random() < 0.5:
                review.status, review.assigned = R.IN_PROGRESS, True
                review.claimed_at = w.between(plan.submitted_at, min(review.quiet_until, w.now))
        plan.final = S.UNDER_REVIEW

    def _moving_step_due(self, review: _ReviewPlan) -> bool:
        return any(
            step.action in MOVING_STEPS
            and self.w.today > self.w.add_days(review.due, step.days_after_due)
            for step in self.w.steps[review.ministry]
        )

    def _time_information_requested(self, plan: _Plan) -> None:
        w = self.w
        self._submit_at(plan, self._days_ago(0.5, 60))
        asker = plan.reviews[0]
        asker.claimed_at = w.between(plan.submitted_at, self._quiet_until(plan))
        asker.assigned = True
        plan.asked_at = w.between(asker.claimed_at, self._quiet_until(plan))
        for review in plan.reviews:
            review.status = R.AWAITING_APPLICANT
        plan.final = S.INFORMATION_REQUESTED

    def _time_withdrawn(self, plan: _Plan) -> None:
        w = self.w
        if w.rng.random() < 0.25:  # withdrawn as a draft
            plan.created_at = self._days_ago(1, 90)
            plan.withdrawn_at = w.between(plan.created_at, w.now)
        else:
            self._submit_at(plan, self._days_ago(1, 120))
            plan.withdrawn_at = w.between(plan.submitted_at, self._quiet_until(plan))
            for review in plan.reviews:
                review.status = R.CANCELLED
        plan.final = S.WITHDRAWN

    def _time_decided(
        self, plan: _Plan, outcome: str, final: str, ago: tuple[float, float] = (20, 200)
    ) -> None:
        """Every review claimed and completed before its reminder; then the outcome."""
        w = self.w
        self._submit_at(plan, self._days_ago(*ago))
        end = max(self._quiet_until(plan), plan.submitted_at + timedelta(hours=1))
        for i, review in enumerate(plan.reviews):
            claimed, completed = sorted(w.between(plan.submitted_at, end) for _ in range(2))
            review.status, review.assigned = R.COMPLETED, True
            review.claimed_at, review.completed_at = claimed, completed
            deny = outcome == S.DENIED or (outcome == S.DISPUTED and i == 0)
            if deny:
                review.recommendation, review.reason = Recommendation.DENY, DENY_REASON
                review.criteria = w.rng.choice(CRITERIA_CITED)
            elif outcome == S.PARTIALLY_APPROVED:
                review.recommendation, review.reason = Recommendation.APPROVE, DENY_REASON
                review.goods_recommendations = [
                    {
                        "good": position,  # a position until the goods have their ids
                        "recommendation": Recommendation.DENY if position == 0 else "approve",
                        "conditions": "",
                        "criteria": w.rng.choice(CRITERIA_CITED) if position == 0 else [],
                    }
                    for position in range(len(plan.goods))
                ]
            elif w.rng.random() < 0.3:
                review.recommendation = Recommendation.APPROVE_WITH_CONDITIONS
                review.conditions = CONDITIONS
            else:
                review.recommendation = Recommendation.APPROVE
        plan.outcome, plan.final = outcome, final
        plan.concluded_at = max(r.completed_at for r in plan.reviews)
        if outcome == S.DISPUTED and final != S.DISPUTED:
            plan.committee_at = w.between(plan.concluded_at, w.now)
            if final == S.DENIED:
                plan.committee_criteria = COMMITTEE_CRITERIA

    def _time_approved(self, plan: _Plan) -> None:
        self._time_decided(plan, S.DISPUTED if self._disputed(plan) else S.APPROVED, S.APPROVED)

    def _time_denied(self, plan: _Plan) -> None:
        self._time_decided(plan, S.DISPUTED if self._disputed(plan) else S.DENIED, S.DENIED)

    def _disputed(self, plan: _Plan) -> bool:
        """Some approvals and denials come through the committee, after the ministries disagreed."""
        return plan.two_opinions and len(plan.ministries) > 1

    def _time_disputed(self, plan: _Plan) -> None:
        self._time_decided(plan, S.DISPUTED, S.DISPUTED)

    def _time_partially_approved(self, plan: _Plan) -> None:
        """Every ministry refuses the first good and approves the rest."""
        self._time_decided(plan, S.PARTIALLY_APPROVED, S.PARTIALLY_APPROVED)

    def _time_under_appeal(self, plan: _Plan) -> None:
        """Denied lately, appealed within the window; the committee's deadline still ahead."""
        self._time_decided(plan, S.DENIED, S.UNDER_APPEAL, ago=(6, 16))
        decided = plan.concluded_at
        plan.appealed_at = self.w.between(decided, min(decided + timedelta(days=3), self.w.now))

    def _time_superseded(self, plan: _Plan) -> None:
        """Timed once paired with its amendment (`_pair_amendments`); alone, it stays open."""
        self._time_under_review(plan)
        plan.final = S.SUPERSEDED

    def _pair_amendments(self, plans: list[_Plan]) -> None:
        """Each superseded case is amended by a case under review, submitted a few days after
        it: the amendment's submission superseded it and cancelled its reviews."""
        amendments = [p for p in plans if p.target == S.UNDER_REVIEW]
        w = self.w
        for original in (p for p in plans if p.target == S.SUPERSEDED):
            if not amendments:  # a chunk too small to pair: it stays under review
                original.target = original.final = S.UNDER_REVIEW
                continue
            amendment = amendments.pop()
            original.amendment, amendment.amends = amendment, original
            superseded = amendment.submitted_at
            self._submit_at(original, superseded - timedelta(days=w.rng.uniform(0.5, 4)))
            for review in original.reviews:
                if w.rng.random() < 0.5:
                    review.assigned = True
                    review.claimed_at = w.between(original.submitted_at, superseded)
                review.status = R.CANCELLED
            amendment.created_at = w.between(original.submitted_at, superseded)

    def _decided_at(self, plan: _Plan) -> datetime:
        return plan.committee_at or plan.concluded_at

    # Materialising: rows, events and notifications, in the order the services write them.

    def _materialise(self, plan: _Plan, reference: str, licence_number: str | None) -> None:
        w = self.w
        app = plan.application
        app_id = app.id
        self.app = app
        self.app_events: list[dict] = []
        exporter = w.exporter
        row = {
            "id": app_id,
            "reference": reference,
            "organisation_id": exporter.organisation_id,
            "created_by_id": exporter.pk,
            "license_type": app.license_type,
            "destination_id": app.destination_id,
            "end_user_name": f"{w.rng.choice(END_USERS)} {w.rng.randint(1, 500)}",
            "end_user_address": f"{w.rng.randint(1, 200)} Industrial Park Road",
            "end_user_country_id": app.destination_id,
            "end_user_type": w.rng.choice(["commercial", "research", "government"]),
            "end_use": "Integration into the end user's own products.",
            "military_end_use": app.military_end_use,
            "currency": "USD",
            "status": plan.final,
            "created_at": plan.created_at,
            "updated_at": plan.created_at,
            "submitted_at": plan.submitted_at,
            "amendment_of_id": plan.amends.application.id if plan.amends else None,
            "superseded_by_id": plan.amendment.application.id if plan.amendment else None,
            "appealed_at": plan.appealed_at,
        }
        self.rows[Application].append(row)
        outcomes = self._outcomes(plan)
        self._other_parties(row)
        if plan.submitted_at is not None and w.listed and w.rng.random() < SCREENED_SHARE:
            self._screening_match(plan, row)
        for good, (outcome, criteria) in zip(plan.goods, outcomes, strict=True):
            good.id = self.ids(Good)  # a licence's lines point at their goods
            self.rows[Good].append(
                {
                    "id": good.id,
                    "application_id": app_id,
                    "description": good.description,
                    "control_list_entry_id": good.control_list_entry.pk,
                    "quantity": good.quantity,
                    "unit_value": good.unit_value,
                    "currency": good.currency,
                    "technology_generation": good.technology_generation,
                    "us_origin_content": good.us_origin_content,
                    "outcome": outcome,
                    "refusal_criteria": criteria,
                }
            )
        for review in plan.reviews:
            for entry in review.goods_recommendations:
                entry["good"] = plan.goods[entry["good"]].id
        if plan.submitted_at is not None:
            self._submitted(plan)
        if plan.amends is not None:
            self._amendment_submitted(plan)
        if plan.target == S.UNDER_REVIEW:
            self._deadlines(plan)
        elif plan.target == S.SUPERSEDED:
            self._superseded(plan)
        elif plan.target == S.INFORMATION_REQUESTED:
            self._asked(plan, row)
        elif plan.target == S.WITHDRAWN:
            self._event(
                plan.withdrawn_at,
                exporter,
                "application_withdrawn",
                S.UNDER_REVIEW if plan.submitted_at else S.DRAFT,
                S.WITHDRAWN,
                "The customer cancelled the order.",
                {"cancelled_reviews": [r.ministry for r in plan.reviews]},
            )
        elif plan.outcome:
            self._decided(plan, row, licence_number)
        row["updated_at"] = max([e["created_at"] for e in self.app_events] + [plan.created_at])
        for review in plan.reviews:
            self._review_row(review)
        # Each case's events in the order they happened; cases one after another.
        self.events.extend(sorted(self.app_events, key=lambda e: e["created_at"]))

    def _outcomes(self, plan: _Plan) -> list[tuple[str, list[str]]]:
        """Each good's outcome and the criteria its refusal cites, as the services record them."""
        none: list[tuple[str, list[str]]] = [("", [])] * len(plan.goods)
        if not plan.outcome:
            return none
        if plan.final == S.DISPUTED:
            return [(GoodOutcome.DISPUTED, [])] * len(plan.goods)
        if plan.final == S.PARTIALLY_APPROVED:
            cited = sorted(
                {c for r in plan.reviews for c in r.goods_recommendations[0]["criteria"]}
            )
            return [(GoodOutcome.REFUSED, cited)] + [(GoodOutcome.APPROVED, [])] * (
                len(plan.goods) - 1
            )
        if plan.decided_state == S.APPROVED:
            return [(GoodOutcome.APPROVED, [])] * len(plan.goods)
        cited = plan.committee_criteria or sorted(
            {c for r in plan.reviews for c in r.criteria}, key=lambda c: (len(c), c)
        )
        return [(GoodOutcome.REFUSED, cited)] * len(plan.goods)

    def _amendment_submitted(self, plan: _Plan) -> None:
        """The amendment's submission superseded the case it amends (on that case's chain)."""
        w, original = self.w, plan.amends
        app = plan.application
        original_reviews = original.reviews
        self.app, saved = original.application, self.app
        self._event(
            plan.created_at,
            w.exporter,
            "amendment_drafted",
            S.UNDER_REVIEW,
            S.UNDER_REVIEW,
            "",
            {"amendment": app.id, "reference": app.reference},
        )
        self._event(
            plan.submitted_at,
            w.exporter,
            "application_superseded",
            S.UNDER_REVIEW,
            S.SUPERSEDED,
            f"Amended by {app.reference}.",
            {
                "superseded_by": app.id,
                "reference": app.reference,
                "cancelled_reviews": [r.ministry for r in original_reviews],
            },
        )
        self._notify(
            plan.submitted_at,
            NotificationEvent.APPLICATION_SUPERSEDED,
            w.exporters,
            f"superseded:{original.application.id}",
            f"{original.application.reference} superseded by its amendment {app.reference}",
            {"reason": f"Its reviews are cancelled; {app.reference} is reviewed instead."},
        )
        self.app = saved

    def _superseded(self, plan: _Plan) -> None:
        """Nothing more: its amendment (`_amendment_submitted`) wrote how it ended."""

    def _other_parties(self, row: dict) -> None:
        rng = self.w.rng
        count = rng.randint(1, 2) if rng.random() < OTHER_PARTY_SHARE else 0
        for _ in range(count):
            self.rows[OtherParty].append(
                {
                    "application_id": row["id"],
                    "kind": rng.choice(PartyKind.values),
                    "name": f"{rng.choice(PARTY_NAMES)} {rng.randint(1, 500)}",
                    "address": f"{rng.randint(1, 90)} Harbour Road",
                    "country_id": rng.choice(PARTY_COUNTRIES),
                    "type": "commercial",
                }
            )
        row["other_party_count"] = count

    def _screening_match(self, plan: _Plan, row: dict) -> None:
        """The end user is a listed name: matched at submission, and resolved as the case
        went (cleared before any approval; confirmed when every ministry denied)."""
        w = self.w
        entry_id, name, list_id, list_name = w.rng.choice(w.listed)
        row["end_user_name"] = name[:200]
        match = {
            "application_id": row["id"],
            "party_kind": "end_user",
            "party_name": name[:200],
            "party_country_id": row["end_user_country_id"],
            "list_id": list_id,
            "list_name": list_name,
            "entry_id": entry_id,
            "entry_name": name,
            "matched_name": name,
            "match": "exact",
            "score": 100,
            "status": MatchStatus.OPEN,
            "found_at": plan.submitted_at,
        }
        completed = [r.completed_at for r in plan.reviews if r.completed_at]
        if completed and plan.reviews:
            confirmed = plan.outcome == S.DENIED
            resolver = w.reviewers[plan.reviews[0].ministry]
            resolved_at = plan.submitted_at + (min(completed) - plan.submitted_at) / 2
            match.update(
                status=MatchStatus.CONFIRMED if confirmed else MatchStatus.CLEARED,
                reason=CONFIRMED_REASON if confirmed else CLEARED_REASON,
                resolved_by_id=resolver.pk,
                resolved_at=resolved_at,
            )
            self._event(
                resolved_at,
                resolver,
                "screening_match_resolved",
                MatchStatus.OPEN,
                match["status"],
                match["reason"],
                {
                    "party": match["party_name"],
                    "party_kind": "end_user",
                    "list": list_name,
                    "entry": name,
                    "disposition": match["status"],
                },
            )
        self.rows[ScreeningMatch].append(match)
        row["screening_match_count"] = 1
        row["open_screening_match_count"] = int(match["status"] == MatchStatus.OPEN)

    def _event(
        self,
        at: datetime,
        actor: User | None,
        action: str,
        from_state: str,
        to_state: str,
        reason: str,
        data: dict,
    ) -> None:
        self.app_events.append(
            {
                "application_id": self.app.id,
                "actor_id": actor.pk if actor else None,
                "actor_name": actor.username if actor else SYSTEM,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "created_at": at,
                "reason": reason,
                "data": data,
            }
        )

    def _notify(
        self,
        at: datetime,
        event: str,
        recipients: list[int],
        key: str,
        subject: str,
        context: dict,
        licence: str | None = None,
    ) -> None:
        body = self.w.body(event, subject, context, self.app.reference, licence)
        context = {**context, "reference": self.app.reference, "application_id": self.app.id}
        sent = at + timedelta(seconds=2)
        read = at + timedelta(days=1) if self.w.now - at > timedelta(days=7) else None
        for user_id in dict.fromkeys(recipients):
            self.rows[Notification].append(
                {
                    "key": f"{key}:{user_id}",
                    "recipient_id": user_id,
                    "event": event,
                    "application_id": self.app.id,
                    "subject": subject,
                    "body": body,
                    "context": context,
                    "created_at": at,
                    "delivery_status": DeliveryStatus.SENT,
                    "claimed_at": at,
                    "attempts": 1,
                    "next_attempt_at": at,
                    "sent_at": sent,
                    "read_at": read,
                }
            )

    def _submitted(self, plan: _Plan) -> None:
        w, app, at = self.w, self.app, plan.submitted_at
        for review in plan.reviews:
            review.id = self.ids(Review)
        for match in plan.matches:
            history_id, version = w.versions[match.rule.pk]
            self.rows[RoutingDecision].append(
                {
                    "application_id": app.id,
                    "rule_id": match.rule.pk,
                    "rule_history_id": history_id,
                    "rule_version": version,
                    "rule_name": match.rule.name,
                    "action": match.rule.action,
                    "ministry": match.rule.ministry,
                    "explanation": match.explanation,
                }
            )
        self._event(
            at,
            w.exporter,
            "application_submitted",
            S.DRAFT,
            S.UNDER_REVIEW,
            "",
            {
                "reviews": {r.ministry: r.due.isoformat() for r in plan.reviews},
                "rules": [
                    {
                        "rule": m.rule.pk,
                        "version": w.versions[m.rule.pk][1],
                        "history_id": w.versions[m.rule.pk][0],
                        "why": m.explanation,
                    }
                    for m in plan.matches
                ],
            },
        )
        self._notify(
            at,
            NotificationEvent.APPLICATION_SUBMITTED,
            w.exporters,
            f"submitted:{app.id}",
            f"{app.reference} submitted",
            {"ministries": list(plan.ministries)},
        )
        for review in plan.reviews:
            self._notify(
                at,
                NotificationEvent.REVIEW_ASSIGNED,
                w.staff[review.ministry],
                f"queued:{review.id}",
                f"{app.reference}: new {Ministry(review.ministry).label} review, "
                f"due {review.due:%d %b %Y}",
                {"ministry": review.ministry, "due_date": review.due.isoformat()},
            )
            if review.claimed_at:
                self._event(
                    review.claimed_at,
                    w.reviewers[review.ministry],
                    "review_claimed",
                    R.PENDING,
                    R.IN_PROGRESS,
                    "",
                    {"review": review.id, "ministry": review.ministry},
                )

    def _review_row(self, review: _ReviewPlan) -> None:
        self.rows[Review].append(
            {
                "id": review.id,
                "application_id": self.app.id,
                "ministry": review.ministry,
                "status": review.status,
                "assigned_to_id": self.w.reviewers[review.ministry].pk if review.assigned else None,
                "received_on": review.received_on,
                "due_date": review.due,
                "reminder_sent": review.reminder_sent,
                "escalation_level": review.escalation_level,
                "recommendation": review.recommendation,
                "reason": review.reason,
                "conditions": review.conditions,
                "completed_at": review.completed_at,
                "criteria": review.criteria,
                "goods_recommendations": review.goods_recommendations,
            }
        )

    def _deadlines(self, plan: _Plan) -> None:
        """What the sweep has already done for an open case: reminders, and steps that notify."""
        w, app = self.w, self.app
        for review in plan.reviews:
            ministry = Ministry(review.ministry).label
            policy = w.policies[review.ministry]
            assignee = [w.reviewers[review.ministry].pk] if review.assigned else []
            if policy.reminder_days_before:
                remind_on = w.minus_days(review.due, policy.reminder_days_before)
                if remind_on <= w.today:
                    review.reminder_sent = True
                    at = max(w.midnight(remind_on) + timedelta(hours=6), review.claimed_at or w.now)
                    at = min(at, w.now)
                    self._notify(
                        at,
                        NotificationEvent.REVIEW_DUE_SOON,
                        assignee or w.staff[review.ministry],
                        f"due-soon:{review.id}:{review.due.isoformat()}",
                        f"{app.reference}: {ministry} review due {review.due:%d %b %Y}",
                        {"ministry": review.ministry, "due_date": review.due.isoformat()},
                    )
            review.escalation_level = 0
            for level, step in enumerate(w.steps[review.ministry]):
                fell_due = w.add_days(review.due, step.days_after_due)
                if not w.today > fell_due:
                    break
                at = min(w.midnight(fell_due + timedelta(days=1)) + timedelta(hours=6), w.now)
                why = (
                    f"The {ministry} review was due on {review.due:%d %b %Y}; "
                    f"escalation step due+{step.days_after_due}: "
                    f"{step.get_action_display().lower()}."
                )
                self._event(
                    at,
                    None,
                    "escalation_step",
                    S.UNDER_REVIEW,
                    S.UNDER_REVIEW,
                    why,
                    {
                        "review": review.id,
                        "ministry": review.ministry,
                        "level": level + 1,
                        "days_after_due": step.days_after_due,
                        "step": step.action,
                    },
                )
                context = {
                    "ministry": review.ministry,
                    "due_date": review.due.isoformat(),
                    "reason": why,
                }
                key = f"escalation:{review.id}:{level}"
                if step.action == EscalationAction.NOTIFY_SUPERVISOR:
                    self._notify(
                        at,
                        NotificationEvent.REVIEW_OVERDUE,
                        w.supervisors[review.ministry] + assignee,
                        key,
                        f"{app.reference}: {ministry} review overdue",
                        context,
                    )
                else:  # notify the committee: the steps that move the case never fell due
                    self._notify(
                        at,
                        NotificationEvent.REVIEW_ESCALATED,
                        w.committee,
                        key,
                        f"{app.reference}: {ministry} review escalated to the committee",
                        context,
                    )
                review.escalation_level = level + 1

    def _asked(self, plan: _Plan, row: dict) -> None:
        w, app = self.w, self.app
        asker = plan.reviews[0]
        reviewer = w.reviewers[asker.ministry]
        request_id = self.ids(InformationRequest)
        self.rows[InformationRequest].append(
            {
                "id": request_id,
                "application_id": app.id,
                "review_id": asker.id,
                "question": QUESTION,
                "asked_by_id": reviewer.pk,
                "asked_at": plan.asked_at,
                "answer": "",
            }
        )
        row["clock_stopped_on"] = w.local_date(plan.asked_at)
        self._event(
            plan.asked_at,
            reviewer,
            "information_requested",
            S.UNDER_REVIEW,
            S.INFORMATION_REQUESTED,
            QUESTION,
            {
                "request": request_id,
                "review": asker.id,
                "clocks_stopped": sorted(r.ministry for r in plan.reviews),
            },
        )
        self._notify(
            plan.asked_at,
            NotificationEvent.INFORMATION_REQUESTED,
            w.exporters,
            f"asked:{request_id}",
            f"{app.reference}: the {Ministry(asker.ministry).label} ministry asks a question",
            {"question": QUESTION},
        )

    def _decided(self, plan: _Plan, row: dict, licence_number: str | None) -> None:
        w, app = self.w, self.app
        for review in plan.reviews:
            self._event(
                review.completed_at,
                w.reviewers[review.ministry],
                "review_completed",
                R.IN_PROGRESS,
                R.COMPLETED,
                review.reason,
                {
                    "review": review.id,
                    "ministry": review.ministry,
                    "recommendation": review.recommendation,
                    "conditions": review.conditions,
                    "criteria": review.criteria,
                    "goods": review.goods_recommendations,
                },
            )
        recommendations = {
            r.ministry: r.recommendation for r in sorted(plan.reviews, key=lambda r: r.ministry)
        }
        concluded = plan.concluded_at + timedelta(milliseconds=1)
        self._event(
            concluded,
            None,
            f"application_{plan.outcome}",
            S.UNDER_REVIEW,
            plan.outcome,
            "Every review is complete.",
            {
                "recommendations": recommendations,
                "goods": {
                    str(good.id): outcome
                    for good, (outcome, _) in zip(plan.goods, self._outcomes(plan), strict=True)
                }
                if plan.committee_at is None
                else {str(good.id): GoodOutcome.DISPUTED for good in plan.goods},
            },
        )
        if plan.outcome == S.DISPUTED:
            row["disputed_at"] = concluded
            self._notify(
                concluded,
                NotificationEvent.REVIEW_ESCALATED,
                w.committee,
                f"disputed:{app.id}",
                f"{app.reference}: the ministries disagree",
                {"recommendations": recommendations},
            )
        if plan.final == S.DISPUTED:
            return
        decided = plan.committee_at or concluded
        reason = ""
        state = plan.decided_state
        decision = {S.APPROVED: "approve", S.PARTIALLY_APPROVED: "partial"}.get(state, "deny")
        if plan.committee_at:
            reason = COMMITTEE_REASON if state == S.APPROVED else COMMITTEE_DENY_REASON
            self._event(
                decided,
                w.committee_member,
                "committee_decided",
                S.DISPUTED,
                state,
                reason,
                {
                    "decision": decision,
                    "criteria": plan.committee_criteria,
                    "goods": {
                        str(good.id): outcome
                        for good, (outcome, _) in zip(plan.goods, self._outcomes(plan), strict=True)
                    },
                },
            )
        row.update(decided_at=decided, decision=decision, decision_reason=reason)
        if licence_number:
            self._licence(plan, decided, licence_number)
        self._notify(
            decided + timedelta(milliseconds=2),
            NotificationEvent.APPLICATION_DECIDED,
            w.exporters,
            f"decided:{app.id}",
            f"{app.reference} {S(state).label.lower()}",
            {"decision": decision, "reason": reason, "license": licence_number},
            licence=licence_number,
        )
        if plan.appealed_at:
            self._appealed(plan)

    def _appealed(self, plan: _Plan) -> None:
        """The exporter appealed the refusal; the committee has it, its deadline ahead."""
        w, app = self.w, self.app
        lodged = plan.appealed_at
        received = w.local_date(lodged)
        due = w.add_days(received, w.appeal_days)
        appeal_id = self.ids(Appeal)
        self.rows[Appeal].append(
            {
                "id": appeal_id,
                "application_id": app.id,
                "grounds": APPEAL_GROUNDS,
                "lodged_by_id": w.exporter.pk,
                "lodged_at": lodged,
                "prior_status": plan.decided_state,
                "received_on": received,
                "due_date": due,
                "overdue_notified": False,
                "outcome": "",
                "reason": "",
            }
        )
        self._event(
            lodged,
            w.exporter,
            "appeal_lodged",
            plan.decided_state,
            S.UNDER_APPEAL,
            APPEAL_GROUNDS,
            {"appeal": appeal_id, "due_date": due.isoformat()},
        )
        self._notify(
            lodged,
            NotificationEvent.APPEAL_LODGED,
            w.committee,
            f"appeal:{appeal_id}",
            f"{app.reference}: appeal lodged, due {due:%d %b %Y}",
            {"reason": APPEAL_GROUNDS},
        )

    def _licence(self, plan: _Plan, decided: datetime, number: str) -> None:
        w, app = self.w, self.app
        valid_from = w.local_date(decided)
        valid_until = _add_years(valid_from, w.validity[app.license_type]) - timedelta(days=1)
        conditions = "\n".join(
            f"{Ministry(r.ministry).label}: {r.conditions}"
            for r in sorted(plan.reviews, key=lambda r: r.ministry)
            if r.conditions
        )
        license_id = self.ids(License)
        self.rows[License].append(
            {
                "id": license_id,
                "verification_code": new_verification_code(),
                "number": number,
                "application_id": app.id,
                "organisation_id": w.exporter.organisation_id,
                "license_type": app.license_type,
                "destination_id": app.destination_id,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "conditions": conditions,
                "status": LicenseStatus.ACTIVE,
                "issued_at": decided + timedelta(milliseconds=1),
            }
        )
        refused = {GoodOutcome.REFUSED}
        licensed = [
            good
            for good, (outcome, _) in zip(plan.goods, self._outcomes(plan), strict=True)
            if outcome not in refused
        ]
        self.rows[LicenseGood].extend(
            {
                "license_id": license_id,
                "good_id": good.id,
                "description": good.description,
                "control_list_entry_id": good.control_list_entry.pk,
                "quantity": good.quantity,
                "value": good.quantity * good.unit_value,
                "currency": good.currency,
            }
            for good in licensed
        )
        self._event(
            decided + timedelta(milliseconds=1),
            None,
            "license_issued",
            "",
            LicenseStatus.ACTIVE,
            "",
            {
                "license": number,
                "valid_until": valid_until.isoformat(),
                "conditions": conditions,
                "goods": [{"good": good.id, "quantity": good.quantity} for good in licensed],
                "replaces": None,
            },
        )


def _take_numbers(prefix: str, years: list[int]) -> list[str]:
    """`PREFIX-YEAR-000123` for each year given, in order, advancing each year's counter."""
    wanted: dict[int, int] = defaultdict(int)
    for year in years:
        wanted[year] += 1
    nxt: dict[int, int] = {}
    for year in sorted(wanted):
        ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
        counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
        nxt[year] = counter.last + 1
        counter.last += wanted[year]
        counter.save(update_fields=["last"])
    numbers = []
    for year in years:
        numbers.append(f"{prefix}-{year}-{nxt[year]:06d}")
        nxt[year] += 1
    return numbers


# --- writing ---------------------------------------------------------------------------------


def _copy(model: type[models.Model], rows: list[dict]) -> None:
    """Write rows (dicts by attname; missing columns take the field's default) in one go."""
    if not rows:
        return
    # Rows nothing else points at leave their ids to the database.
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or "id" in rows[0]]
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    in_order = operator.itemgetter(*names)
    # Rows written beside the services: no kept page is current once they commit.
    page_cache.everything_changed()
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_columns = [
                (i, f.encoder) for i, f in enumerate(fields) if isinstance(f, models.JSONField)
            ]
            # psycopg formats a datetime ten times slower than its ISO text, which COPY parses.
            dates = [
                i
                for i, f in enumerate(fields)
                if isinstance(f, models.DateField | models.DecimalField)
            ]
            dumped: dict[int, str] = {}  # rows of one notify() share their context
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = list(in_order({**defaults, **row}))
                    for i, encoder in json_columns:
                        value = values[i]
                        text = dumped.get(id(value))
                        if text is None:
                            text = dumped[id(value)] = json.dumps(value, cls=encoder)
                        values[i] = text
                    for i in dates:
                        if values[i] is not None:
                            values[i] = str(values[i])
                    copy.write_row(values)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - model's own table
            [
                [
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(fields, in_order({**defaults, **row}), strict=True)
                ]
                for row in rows
            ],
        )
