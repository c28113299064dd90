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

The parts: `licensing.demo.world` reads what every chunk shares once (the demo
people, the rules, the clock, ids handed out ahead); `licensing.demo.planning` draws
and times each case; this module materialises the plans as rows, events and
notifications, in the order the services write them; `licensing.demo.writing` takes
the reference numbers and writes the rows.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models, transaction

from accounts.models import Ministry, User
from licensing.audit import HASHED_FIELDS, event_hash, lock_chain_head
from licensing.demo.planning import Plan, Planner, ReviewPlan
from licensing.demo.world import Ids, World
from licensing.demo.writing import copy_rows, take_numbers
from licensing.models import (
    SYSTEM,
    Appeal,
    Application,
    ApplicationStatus,
    AuditEvent,
    DeliveryStatus,
    EscalationAction,
    Good,
    GoodOutcome,
    InformationRequest,
    License,
    LicenseGood,
    LicenseStatus,
    MatchStatus,
    Notification,
    NotificationEvent,
    OtherParty,
    PartyKind,
    Review,
    ReviewStatus,
    RoutingDecision,
    ScreeningMatch,
)
from licensing.models.licenses import new_verification_code
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

END_USERS = ["Orion Systems", "Helix Research", "Northwind Aviation", "Atlas Optics", "Kestrel"]
QUESTION = "Please attach the end-user certificate signed by the end user."
COMMITTEE_REASON = "The committee accepts the end-user assurances."
COMMITTEE_DENY_REASON = "The committee finds the diversion risk too high."
APPEAL_GROUNDS = "The end user has since given further assurances."
# Other parties sit in countries on no country list, so routing (memoised without them)
# stays what the rules say; a share of submitted cases has an end user on a screening list.
PARTY_COUNTRIES = ["DE", "FR", "NL", "BE", "GB", "US", "SG", "JP", "CH", "AT"]
PARTY_NAMES = ["Meridian Freight", "Baltic Forwarding", "Apex Brokers", "Delta Logistics"]
OTHER_PARTY_SHARE = 0.3
SCREENED_SHARE = 0.03
CLEARED_REASON = "A namesake: another registry number and address."
CONFIRMED_REASON = "The same registry number as the listed entity."


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
    world = World.load(seed)
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
                events = Chunk(world, targets).write()
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


# --- one chunk -------------------------------------------------------------------------------


class Chunk:
    """Plan a chunk of applications, number them, and write every row they need."""

    def __init__(self, world: World, targets: list[str]) -> None:
        self.w = world
        self.planner = Planner(world)
        self.targets = targets
        self.rows: dict[type[models.Model], list[dict]] = defaultdict(list)
        self.events: list[dict] = []

    def ids(self, model: type[models.Model]) -> int:
        pool = self.w.ids.get(model)
        if pool is None:
            pool = self.w.ids[model] = Ids(model)
        return pool.take()

    def write(self) -> int:
        plans = [self.planner.plan(t) for t in self.targets]
        self.planner.pair_amendments(plans)
        plans.sort(key=lambda p: p.created_at)
        # Locks in the services' order: the chain's head, then the counters (an approval
        # appends its event, then numbers its licence). With the head held no one else
        # appends, so the database numbers the events in the order they are written: the
        # chain's order.
        head = lock_chain_head()
        references = take_numbers("EXP", [p.created_at.astimezone(self.w.tz).year for p in plans])
        approved = [p for p in plans if p.final in (S.APPROVED, S.PARTIALLY_APPROVED)]
        licence_numbers = take_numbers(
            "LIC", [self.planner.decided_at(p).astimezone(self.w.tz).year for p in approved]
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
            copy_rows(model, self.rows.get(model, []))
        if self.events:
            head.last_hash = prev
            head.save(update_fields=["last_hash"])
        return len(self.events)

    # Planning: content, routing, and when each thing happened.

    # Materialising: rows, events and notifications, in the order the services write them.

    def _materialise(self, plan: Plan, reference: str, licence_number: str | None) -> None:
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

    def _outcomes(self, plan: Plan) -> list[tuple[str, list[str]]]:
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

    def _amendment_submitted(self, plan: Plan) -> None:
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

    def _superseded(self, plan: Plan) -> None:
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

    def _screening_match(self, plan: Plan, row: dict) -> None:
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

    def _submitted(self, plan: Plan) -> None:
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

    def _review_row(self, review: ReviewPlan) -> None:
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

    def _deadlines(self, plan: Plan) -> None:
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

    def _asked(self, plan: Plan, row: dict) -> None:
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

    def _decided(self, plan: Plan, row: dict, licence_number: str | None) -> None:
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

    def _appealed(self, plan: Plan) -> None:
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

    def _licence(self, plan: Plan, decided: datetime, number: str) -> None:
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
