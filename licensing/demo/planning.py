"""Planning a seeded case: its content, its routing, and when each thing happened.

`Planner.plan(target)` draws an application and its goods, routes them with the real
rules, and times every step up to the target state the way a live system spreads its
cases (drafts and open cases recent, decided ones older), leaving no case in a state the
deadline sweep would have moved on. Nothing is written here: `licensing.demo.bulk`
materialises the plans as rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from licensing.demo.world import World
from licensing.models import (
    ApplicationStatus,
    ControlListEntry,
    EscalationAction,
    LicenseType,
    Recommendation,
    ReviewStatus,
)

S = ApplicationStatus
R = ReviewStatus

DESTINATIONS = ["US", "DE", "GB", "FR", "IN", "CN", "JP", "AU", "CA", "PL", "BR", "SG", "KR", "IT"]
SENSITIVE = ["IN", "CN"]
ITEMS = ["thermal camera", "UAV airframe", "encryption module", "radar assembly", "gyroscope"]
MOVING_STEPS = frozenset({EscalationAction.DEEM_NO_OBJECTION, EscalationAction.REFER_TO_COMMITTEE})
CONDITIONS = "No re-export without the ministry's prior written consent."
DENY_REASON = "The end-user assurances do not cover the stated end use."
# The refusal criteria (EU Common Position 2008/944/CFSP) a seeded deny cites.
CRITERIA_CITED = [["7"], ["2"], ["4", "7"], ["1"], ["7", "8"]]
COMMITTEE_CRITERIA = ["7"]


@dataclass
class ReviewPlan:
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
class PlannedApplication:
    """What routing reads of an application (a model instance costs ten times more to make)."""

    license_type: str
    destination_id: str
    military_end_use: bool
    currency: str
    id: int = 0
    reference: str = ""


@dataclass(slots=True)
class PlannedGood:
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
class Plan:
    target: str
    application: PlannedApplication
    goods: list[PlannedGood]
    two_opinions: bool = False  # sent where two ministries review it, so they can disagree
    ministries: list[str] = field(default_factory=list)
    matches: list = field(default_factory=list)
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    reviews: list[ReviewPlan] = field(default_factory=list)
    asked_at: datetime | None = None
    withdrawn_at: datetime | None = None
    concluded_at: datetime | None = None  # the last review completed
    committee_at: datetime | None = None  # the committee decided
    outcome: str = ""  # approved, denied or disputed once every review is in
    final: str = ""  # the state it ends in
    amendment: Plan | None = None  # a superseded case: the case that amended it
    amends: Plan | None = None  # an amendment: the case it superseded
    appealed_at: datetime | None = None
    committee_criteria: list[str] = field(default_factory=list)

    @property
    def decided_state(self) -> str:
        """The state the decision left it in (an appeal lodged since aside)."""
        return S.DENIED if self.final == S.UNDER_APPEAL else self.final


class Planner:
    """Plans cases on a world: draws and times them, writes nothing."""

    def __init__(self, world: World) -> None:
        self.w = world

    def plan(self, target: str) -> Plan:
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
        application = PlannedApplication(
            license_type=license_type,
            destination_id=destination,
            military_end_use=not munitions and rng.random() < 0.1,
            currency="USD",
        )
        goods = [
            PlannedGood(
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
        plan = Plan(target=target, application=application, goods=goods)
        plan.two_opinions = two_opinions
        result = w.route(application, goods)
        plan.ministries, plan.matches = result.ministries, result.matches
        getattr(self, f"_time_{target}")(plan)
        return plan

    def _submit_at(self, plan: Plan, submitted: datetime) -> None:
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
            plan.reviews.append(ReviewPlan(ministry, received, due, quiet))

    def _days_ago(self, low: float, high: float) -> datetime:
        return self.w.now - timedelta(days=self.w.rng.uniform(low, high))

    def _quiet_until(self, plan: Plan) -> datetime:
        return min([r.quiet_until for r in plan.reviews] + [self.w.now])

    def _time_draft(self, plan: Plan) -> None:
        plan.created_at = self._days_ago(0, 45)
        plan.final = S.DRAFT

    def _time_under_review(self, plan: Plan) -> None:
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

    def _moving_step_due(self, review: ReviewPlan) -> bool:
        return any(
            step.action in MOVING_STEPS
            and self.w.today > self.w.add_days(review.due, step.days_after_due)
            for step in self.w.steps[review.ministry]
        )

    def _time_information_requested(self, plan: Plan) -> None:
        w = self.w
        self._submit_at(plan, self._days_ago(0.5, 60))
        asker = plan.reviews[0]
        asker.claimed_at = w.between(plan.submitted_at, self._quiet_until(plan))
        asker.assigned = True
        plan.asked_at = w.between(asker.claimed_at, self._quiet_until(plan))
        for review in plan.reviews:
            review.status = R.AWAITING_APPLICANT
        plan.final = S.INFORMATION_REQUESTED

    def _time_withdrawn(self, plan: Plan) -> None:
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
        self, plan: Plan, outcome: str, final: str, ago: tuple[float, float] = (20, 200)
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

    def _time_approved(self, plan: Plan) -> None:
        self._time_decided(plan, S.DISPUTED if self._disputed(plan) else S.APPROVED, S.APPROVED)

    def _time_denied(self, plan: Plan) -> None:
        self._time_decided(plan, S.DISPUTED if self._disputed(plan) else S.DENIED, S.DENIED)

    def _disputed(self, plan: Plan) -> bool:
        """Some approvals and denials come through the committee, after the ministries disagreed."""
        return plan.two_opinions and len(plan.ministries) > 1

    def _time_disputed(self, plan: Plan) -> None:
        self._time_decided(plan, S.DISPUTED, S.DISPUTED)

    def _time_partially_approved(self, plan: Plan) -> None:
        """Every ministry refuses the first good and approves the rest."""
        self._time_decided(plan, S.PARTIALLY_APPROVED, S.PARTIALLY_APPROVED)

    def _time_under_appeal(self, plan: Plan) -> None:
        """Denied lately, appealed within the window; the committee's deadline still ahead."""
        self._time_decided(plan, S.DENIED, S.UNDER_APPEAL, ago=(6, 16))
        decided = plan.concluded_at
        plan.appealed_at = self.w.between(decided, min(decided + timedelta(days=3), self.w.now))

    def _time_superseded(self, plan: Plan) -> None:
        """Timed once paired with its amendment (`pair_amendments`); alone, it stays open."""
        self._time_under_review(plan)
        plan.final = S.SUPERSEDED

    def pair_amendments(self, plans: list[Plan]) -> None:
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

    def decided_at(self, plan: Plan) -> datetime:
        return plan.committee_at or plan.concluded_at
