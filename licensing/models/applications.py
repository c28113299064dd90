"""License applications, their goods, documents, questions and routing record.

Transition bodies change only the application's own fields; the services in
`licensing.services` are the only callers, and do the locking, permission
checks, audit events and notifications around them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Ministry, Organisation
from licensing import policies
from licensing.models.reference import ControlListEntry, Country, LicenseType, Regime
from licensing.models.rules import RoutingRule, RuleAction, TechnologyGeneration


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    UNDER_REVIEW = "under_review", "Under review"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    DISPUTED = "disputed", "Disputed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    UNDER_APPEAL = "under_appeal", "Under appeal"


class EndUserType(models.TextChoices):
    GOVERNMENT = "government", "Government"
    MILITARY = "military", "Military"
    COMMERCIAL = "commercial", "Commercial"
    RESEARCH = "research", "Research"
    INDIVIDUAL = "individual", "Individual"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    DENY = "deny", "Deny"
    PARTIAL = "partial", "Approve some goods"


class GoodOutcome(models.TextChoices):
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    DISPUTED = "disputed", "Disputed"


class ReferenceCounter(models.Model):
    """The last reference number issued in a year, locked while the next is taken."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="unique_reference_counter")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


S = ApplicationStatus
OPEN_STATES = [S.DRAFT, S.UNDER_REVIEW, S.INFORMATION_REQUESTED]
# The ministries have it: an exporter may amend it by copy.
IN_REVIEW_STATES = [S.UNDER_REVIEW, S.INFORMATION_REQUESTED]
# A refusal, whole or in part: an exporter may appeal it.
APPEALABLE_STATES = [S.DENIED, S.PARTIALLY_APPROVED]


def conflict(code: str, message: str, **extra):
    """Mark a transition condition with the 409 the rulebook answers when it fails:
    `message` is formatted with `obj`; `extra` maps body keys to functions of `obj`."""

    def mark(condition):
        def refuse(obj):
            from licensing.exceptions import TransitionConflict

            return TransitionConflict(
                message.format(obj=obj),
                current_state=obj.status,
                code=code,
                extra={key: value(obj) for key, value in extra.items()},
            )

        condition.conflict = refuse
        return condition

    return mark


def appeal_closes_on(application: Application):
    """The last day (local) an appeal may be lodged: APPEAL_WINDOW_DAYS after the decision."""
    from datetime import timedelta

    if application.decided_at is None:
        return None
    local = timezone.localtime(application.decided_at).date()
    return local + timedelta(days=settings.APPEAL_WINDOW_DAYS)


@conflict(
    "appeal_window_closed",
    "The appeal window closed on {obj.appeal_closes_on:%d %b %Y}: appeals are lodged within "
    "the days the law allows after the decision.",
)
def appeal_window_open(application: Application) -> bool:
    from licensing.clock import local_today

    closes = appeal_closes_on(application)
    return closes is not None and local_today() <= closes


@conflict("already_appealed", "This decision was appealed already; it can be appealed once.")
def not_appealed_yet(application: Application) -> bool:
    return application.appealed_at is None


@conflict(
    "amendment_exists",
    "An amendment of {obj} is already drafted: submit or delete it first.",
    amendment=lambda obj: obj.pending_amendment_id,
)
def no_pending_amendment(obj) -> bool:
    """An application or licence has at most one amendment being drafted."""
    return obj.pending_amendment_id is None


class Application(ConcurrentTransitionMixin, models.Model):
    # Unique by a constraint (Meta), not `unique=True`: PostgreSQL then keeps one index,
    # not a second one for `LIKE 'prefix%'` that no query uses and every insert updates.
    reference = models.CharField(max_length=20, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,  # app_org_newest_idx leads with it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    license_type = models.CharField(max_length=20, choices=LicenseType.choices)
    destination = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")

    end_user_name = models.CharField(max_length=200, blank=True)
    end_user_address = models.TextField(max_length=1000, blank=True)
    end_user_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_user_type = models.CharField(max_length=20, choices=EndUserType.choices, blank=True)

    consignee_name = models.CharField(max_length=200, blank=True)
    consignee_address = models.TextField(max_length=1000, blank=True)
    consignee_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consignee_type = models.CharField(max_length=20, choices=EndUserType.choices, blank=True)

    end_use = models.TextField(max_length=5000, blank=True)
    military_end_use = models.BooleanField(default=False)
    marketing_license = models.ForeignKey(
        "licensing.License",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For an export license with munitions items: the active marketing license.",
    )
    currency = models.CharField(max_length=3, default="USD")

    status = FSMField(
        max_length=30, choices=ApplicationStatus.choices, default=S.DRAFT, protected=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the application went to the committee."
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    clock_stopped_on = models.DateField(
        null=True, blank=True, help_text="Local date the review clocks stopped for a question."
    )
    # Changing course (DESIGN section 9).
    amendment_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
        help_text="The application this one amends (a copy that supersedes it once submitted).",
    )
    pending_amendment = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The amendment being drafted, until it is submitted, withdrawn or deleted.",
    )
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amends_license = models.ForeignKey(
        "licensing.License",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
        help_text="The licence this application amends; once approved, its licence replaces it.",
    )
    appealed_at = models.DateTimeField(null=True, blank=True)
    # Kept by the services beside the rows they count, so a page or the API reads a
    # relation only when it has rows, and a queue shows its screening badge from the row.
    other_party_count = models.PositiveIntegerField(default=0, editable=False)
    screening_match_count = models.PositiveIntegerField(default=0, editable=False)
    open_screening_match_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            # An exporter's list, newest first, at any archive size.
            models.Index(fields=["organisation", "-created_at", "-id"], name="app_org_newest_idx"),
            # Everyone else's list (a ministry's, the committee's, the administrators'),
            # newest first, read a page at a time: the visibility filter is checked on the
            # rows in order, never a sort of every visible row.
            models.Index(fields=["-created_at", "-id"], name="app_list_idx"),
            # The committee's (`selectors.COMMITTEE_STATES`): without it, its page would first
            # pass over every newer case still in the ministries' hands.
            models.Index(
                fields=["-created_at", "-id"],
                name="app_committee_list_idx",
                condition=models.Q(
                    status__in=[
                        "disputed",
                        "under_appeal",
                        "approved",
                        "denied",
                        "partially_approved",
                    ]
                ),
            ),
            # The committee's decided cases, newest first.
            models.Index(fields=["status", "-decided_at"], name="app_status_decided_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="application_reference_unique"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def original_fate(self) -> str:
        """What became of the application this one amends, in words for its page."""
        original = self.amendment_of
        if original.status == S.SUPERSEDED:
            return "which this amendment superseded"
        if original.status in IN_REVIEW_STATES:
            return "which stays under review until this amendment is submitted"
        return f"which is now {original.get_status_display().lower()}"

    @property
    def appeal_closes_on(self):
        return appeal_closes_on(self)

    @property
    def has_end_user(self) -> bool:
        return bool(
            self.end_user_name
            and self.end_user_address
            and self.end_user_country_id
            and self.end_user_type
        )

    @property
    def has_consignee(self) -> bool:
        return bool(self.consignee_name)

    # Transitions: own fields only.

    @property
    def awaits_exporter(self) -> bool:
        """A reviewer's question is open: the exporter's answer is needed."""
        return self.status == S.INFORMATION_REQUESTED

    @transition(
        field=status, source=S.DRAFT, target=S.UNDER_REVIEW, permission=policies.is_exporter_of
    )
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=status, source=S.UNDER_REVIEW, target=S.INFORMATION_REQUESTED)
    def request_information(self, *, on) -> None:
        self.clock_stopped_on = on

    @transition(
        field=status,
        source=S.INFORMATION_REQUESTED,
        target=S.UNDER_REVIEW,
        permission=policies.is_exporter_of,
    )
    def respond(self) -> None:
        self.clock_stopped_on = None

    @transition(field=status, source=S.UNDER_REVIEW, target=S.APPROVED)
    def approve(self) -> None:
        self._decide(Decision.APPROVE, "")

    @transition(field=status, source=S.UNDER_REVIEW, target=S.DENIED)
    def deny(self) -> None:
        self._decide(Decision.DENY, "")

    @transition(field=status, source=S.UNDER_REVIEW, target=S.DISPUTED)
    def dispute(self) -> None:
        """The reviews disagree."""
        self.disputed_at = timezone.now()

    @transition(field=status, source=S.UNDER_REVIEW, target=S.DISPUTED)
    def refer_to_committee(self) -> None:
        """An escalation step sent the application to the committee."""
        self.disputed_at = timezone.now()

    @transition(
        field=status,
        source=S.DISPUTED,
        target=S.APPROVED,
        permission=policies.is_committee_member,
    )
    def committee_approve(self, *, reason: str) -> None:
        self._decide(Decision.APPROVE, reason)

    @transition(
        field=status,
        source=S.DISPUTED,
        target=S.DENIED,
        permission=policies.is_committee_member,
    )
    def committee_deny(self, *, reason: str) -> None:
        self._decide(Decision.DENY, reason)

    @transition(
        field=status, source=OPEN_STATES, target=S.WITHDRAWN, permission=policies.is_exporter_of
    )
    def withdraw(self) -> None:
        self.clock_stopped_on = None

    @transition(field=status, source=S.UNDER_REVIEW, target=S.PARTIALLY_APPROVED)
    def partially_approve(self) -> None:
        """The ministries agree on every good: some approved, the rest refused."""
        self._decide(Decision.PARTIAL, "")

    @transition(
        field=status,
        source=S.DISPUTED,
        target=S.PARTIALLY_APPROVED,
        permission=policies.is_committee_member,
    )
    def committee_partially_approve(self, *, reason: str) -> None:
        self._decide(Decision.PARTIAL, reason)

    @transition(field=status, source=IN_REVIEW_STATES, target=S.SUPERSEDED)
    def supersede(self, *, by: Application) -> None:
        """Its amendment was submitted: the amendment is reviewed instead."""
        self.superseded_by = by
        self.pending_amendment = None
        self.clock_stopped_on = None

    @transition(
        field=status,
        source=APPEALABLE_STATES,
        target=S.UNDER_APPEAL,
        conditions=[not_appealed_yet, appeal_window_open],
        permission=policies.is_exporter_of,
    )
    def lodge_appeal(self) -> None:
        self.appealed_at = timezone.now()

    @transition(
        field=status,
        source=S.UNDER_APPEAL,
        target=S.APPROVED,
        permission=policies.is_committee_member,
    )
    def uphold_appeal(self, *, reason: str) -> None:
        self._decide(Decision.APPROVE, reason)

    @transition(
        field=status,
        source=S.UNDER_APPEAL,
        target=RETURN_VALUE(S.DENIED, S.PARTIALLY_APPROVED),
        permission=policies.is_committee_member,
    )
    def dismiss_appeal(self, *, prior_status: str) -> str:
        """Back to the refusal appealed against; the decision and its date stand."""
        return prior_status

    def _decide(self, decision: str, reason: str) -> None:
        self.decision = decision
        self.decision_reason = reason
        self.decided_at = timezone.now()


# What an exporter sets on a draft, in the order a form shows it.
APPLICATION_FIELDS = (
    "license_type",
    "destination",
    "currency",
    "end_user_name",
    "end_user_address",
    "end_user_country",
    "end_user_type",
    "consignee_name",
    "consignee_address",
    "consignee_country",
    "consignee_type",
    "end_use",
    "military_end_use",
    "marketing_license",
)
# ...and on each of its goods, in form order (a good's currency follows the application's).
GOOD_FIELDS = (
    "description",
    "control_list_entry",
    "quantity",
    "unit_value",
    "currency",
    "technology_generation",
    "us_origin_content",
)


class Good(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="goods")
    description = models.CharField(max_length=500)
    control_list_entry = models.ForeignKey(
        ControlListEntry, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # 15 significant digits stay exact on SQLite too, which keeps decimals as doubles.
    unit_value = models.DecimalField(
        max_digits=15, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    technology_generation = models.CharField(
        max_length=20, choices=TechnologyGeneration.choices, default=TechnologyGeneration.CURRENT
    )
    us_origin_content = models.BooleanField(default=False)
    outcome = models.CharField(
        max_length=10, choices=GoodOutcome.choices, blank=True, help_text="Blank until decided."
    )
    refusal_criteria = models.JSONField(
        default=list, blank=True, help_text="The codes of the refusal criteria a refusal cites."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="good_quantity_positive", condition=models.Q(quantity__gt=0)
            ),
            models.CheckConstraint(
                name="good_unit_value_not_negative", condition=models.Q(unit_value__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"

    @property
    def value(self) -> Decimal:
        return self.unit_value * self.quantity

    @property
    def regime(self) -> str:
        return self.control_list_entry.regime


def total_value(goods) -> Decimal:
    return sum((good.value for good in goods), Decimal("0"))


def has_munitions(goods) -> bool:
    return any(good.control_list_entry.regime == Regime.MUNITIONS for good in goods)


class DocumentKind(models.TextChoices):
    END_USER_CERTIFICATE = "end_user_certificate", "End-user certificate"
    TECHNICAL_SPECIFICATION = "technical_specification", "Technical specification"
    OTHER = "other", "Other"


def megabytes(size: int) -> str:
    """A byte count for people: `10 MB`."""
    return f"{size / (1024 * 1024):g} MB"


def document_size_limit() -> str:
    """DOCUMENT_MAX_BYTES for people: `10 MB`."""
    return megabytes(settings.DOCUMENT_MAX_BYTES)


# The extensions a name may keep for each content type the upload recognises; any
# other name gets the first one (a PDF named x.html is shown and served as x.pdf).
DOCUMENT_EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
DOCUMENT_NAME_MAX = 255


def name_for_content_type(name: str, content_type: str) -> str:
    """`name` with the extension of `content_type`: its own if it fits, else replaced.

    `x.html` holding a PDF is `x.pdf` (not `x.html.pdf`: a browser or a mail filter
    that reads any extension of a double one would still see `.html`).
    """
    extensions = DOCUMENT_EXTENSIONS.get(content_type)
    if not extensions:
        return name[:DOCUMENT_NAME_MAX]
    path = PurePath(name)
    if path.suffix.lower() in extensions and path.stem.strip("."):
        stem, extension = path.stem, path.suffix
    else:
        stem, extension = path.stem if path.suffix else path.name, extensions[0]
    stem = stem.strip(".") or "document"
    return stem[: DOCUMENT_NAME_MAX - len(extension)] + extension


def document_path(instance: Document, filename: str) -> str:
    return f"documents/{instance.application.reference}/{filename}"


class Document(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_path)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name shown and served: the uploaded one, with its content's extension
        (also for documents stored before names were corrected on upload)."""
        return name_for_content_type(self.filename, self.content_type)


class InformationRequest(models.Model):
    """A reviewer's question and the exporter's answer; one open at a time per application."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="information_requests"
    )
    review = models.ForeignKey("licensing.Review", on_delete=models.CASCADE, related_name="+")
    question = models.TextField(max_length=5000)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(max_length=5000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(answered_at__isnull=True),
                name="one_open_information_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application}: {self.question[:50]}"


class RoutingDecision(models.Model):
    """Which rule, in which version, routed or refused an application at submission."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="routing")
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_history_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The history record of the rule version that applied."
    )
    rule_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="That version's number among the rule's own (1, 2, ...)."
    )
    rule_name = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=RuleAction.choices)
    ministry = models.CharField(max_length=20, choices=Ministry.choices, blank=True)
    explanation = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.application}: {self.rule_name}"
