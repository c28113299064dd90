"""Every party of an application, and the sanctions and denial lists they are screened against.

`OtherParty` rows sit beside the application's end user and consignee. A
`ScreeningList` holds `ScreeningEntry` rows; each entry's names (its own and its
aliases) are kept normalised in `ScreeningName`, which screening reads into memory
once per process and list, until the list's `revision` changes
(`licensing.screening`). A `ScreeningMatch` is one
party resembling one entry: open until a reviewer clears or confirms it.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from licensing import policies
from licensing.models.applications import Application, EndUserType
from licensing.models.reference import Country


class PartyKind(models.TextChoices):
    """`other_parties` kinds; the end user and the consignee are parties too, when screened."""

    ULTIMATE_END_USER = "ultimate_end_user", "Ultimate end user"
    INTERMEDIATE_CONSIGNEE = "intermediate_consignee", "Intermediate consignee"
    THIRD_PARTY = "third_party", "Third party"


class ScreenedPartyKind(models.TextChoices):
    END_USER = "end_user", "End user"
    CONSIGNEE = "consignee", "Consignee"
    ULTIMATE_END_USER = "ultimate_end_user", "Ultimate end user"
    INTERMEDIATE_CONSIGNEE = "intermediate_consignee", "Intermediate consignee"
    THIRD_PARTY = "third_party", "Third party"


class OtherParty(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="other_parties"
    )
    kind = models.CharField(max_length=30, choices=PartyKind.choices)
    name = models.CharField(max_length=200)
    address = models.TextField(max_length=1000)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=20, choices=EndUserType.choices)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "other parties"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class ScreeningList(models.Model):
    """A sanctions or denial list (a consolidated list, or the ministry's own)."""

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(
        max_length=300, blank=True, help_text="Where the list comes from (publisher, URL, date)."
    )
    blocking = models.BooleanField(
        default=False,
        help_text="An exact match with an entry of this list refuses submission outright.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    revision = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="New on every change of the list's entries: screening reads the names again.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScreeningEntry(models.Model):
    list = models.ForeignKey(ScreeningList, on_delete=models.CASCADE, related_name="entries")
    name = models.CharField(max_length=300)
    aliases = models.JSONField(default=builtins.list, blank=True, help_text="Other names, a list.")
    country = models.ForeignKey(
        Country,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="When set, a partial match needs the party to be in this country.",
    )
    remarks = models.TextField(blank=True, help_text="The list's reference, or remarks.")

    class Meta:
        ordering = ["list", "name", "id"]
        verbose_name_plural = "screening entries"

    def __str__(self) -> str:
        return self.name

    @property
    def all_names(self) -> builtins.list[str]:
        return [self.name, *(alias for alias in self.aliases if alias)]

    @property
    def digest(self) -> str:
        return entry_digest(self.name, self.aliases, self.country_id)


def entry_digest(name: str, aliases: builtins.list[str], country_id: str | None) -> str:
    """What a clearance was given for: the entry's name, aliases (in any order) and
    country. A re-import of the same entry has the same digest; a changed one does not."""
    text = json.dumps([name, sorted(a for a in aliases if a), country_id], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class ScreeningName(models.Model):
    """One of an entry's names (its own or an alias), normalised: what screening scores."""

    entry = models.ForeignKey(ScreeningEntry, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=300)
    normalised = models.CharField(max_length=300, db_index=True)
    alias = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.normalised


class MatchKind(models.TextChoices):
    EXACT = "exact", "Exact"
    PARTIAL = "partial", "Partial"


class MatchStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared"
    CONFIRMED = "confirmed", "Confirmed"


class ScreeningMatch(ConcurrentTransitionMixin, models.Model):
    """A party of an application resembling a list entry, until a reviewer resolves it.

    What was matched is copied (party, list and entry names), so the record
    stands when a list is re-imported and its entries replaced.
    """

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="screening_matches"
    )
    party_kind = models.CharField(max_length=30, choices=ScreenedPartyKind.choices)
    party_name = models.CharField(max_length=300)
    party_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    list = models.ForeignKey(
        ScreeningList, null=True, on_delete=models.SET_NULL, related_name="matches"
    )
    list_name = models.CharField(max_length=100)
    entry = models.ForeignKey(
        ScreeningEntry, null=True, on_delete=models.SET_NULL, related_name="matches"
    )
    entry_name = models.CharField(max_length=300)
    matched_name = models.CharField(
        max_length=300, help_text="The entry's name or alias the party resembled."
    )
    match = models.CharField(max_length=10, choices=MatchKind.choices)
    score = models.PositiveSmallIntegerField()
    status = FSMField(
        max_length=20, choices=MatchStatus.choices, default=MatchStatus.OPEN, protected=True
    )
    reason = models.TextField(blank=True)
    entry_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="The entry as it was when found or resolved (`entry_digest`): a cleared "
        "match opens again when re-screening finds the entry changed.",
    )
    found_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application_id", "id"]
        verbose_name_plural = "screening matches"
        constraints = [
            # Screening again finds the same resemblance again: it is recorded once.
            models.UniqueConstraint(
                fields=["application", "party_kind", "party_name", "list_name", "entry_name"],
                name="one_match_per_party_and_entry",
            )
        ]
        indexes = [
            models.Index(
                fields=["application"],
                name="screening_match_open_idx",
                condition=models.Q(status="open"),
            ),
            # The API's list, newest first, a page at a time.
            models.Index(fields=["-found_at", "-id"], name="screening_match_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.party_name} ~ {self.entry_name} ({self.list_name})"

    @property
    def description(self) -> str:
        """The match for people: who resembles what, on which list."""
        return (
            f"{self.get_party_kind_display().lower()} '{self.party_name}' "
            f"({self.get_match_display().lower()} match, {self.score}) with "
            f"'{self.entry_name}' on the screening list '{self.list_name}'"
        )

    @property
    def reviewing_ministries(self) -> set[str]:
        """The ministries with a review of the application (read with the match, or once)."""
        ministries = getattr(self, "_reviewing_ministries", None)
        if ministries is None:
            ministries = {review.ministry for review in self.application.reviews.all()}
            self._reviewing_ministries = ministries
        return ministries

    @transition(
        field=status,
        source=MatchStatus.OPEN,
        target=MatchStatus.CLEARED,
        permission=policies.may_resolve_screening_match,
    )
    def clear(self, *, user, reason: str) -> None:
        self._resolve(user, reason)

    @transition(
        field=status,
        source=MatchStatus.OPEN,
        target=MatchStatus.CONFIRMED,
        permission=policies.may_resolve_screening_match,
    )
    def confirm(self, *, user, reason: str) -> None:
        self._resolve(user, reason)

    @transition(field=status, source=MatchStatus.CLEARED, target=MatchStatus.OPEN)
    def reopen(self, *, found_kind: str, score: int, matched_name: str, digest: str) -> None:
        """The entry cleared against changed (name, aliases or country): decide again."""
        self.match = found_kind
        self.score = score
        self.matched_name = matched_name
        self.entry_digest = digest
        self.resolved_by = None
        self.resolved_at = None
        self.reason = ""
        self.found_at = timezone.now()

    def _resolve(self, user, reason: str) -> None:
        self.resolved_by = user
        self.reason = reason
        self.resolved_at = timezone.now()
