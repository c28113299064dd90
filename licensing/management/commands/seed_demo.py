"""Demo organisations, users and (optionally) applications in every state.

Idempotent: users and organisations are matched by name, so running it
twice changes nothing. `--applications N` adds N applications through the
same services people use, so each has a real audit trail.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from accounts.models import Ministry, Organisation, RegisterStatus, Role, User
from licensing import reference_data
from licensing.models import ApplicationStatus, ControlListEntry, Review

ORGANISATIONS = {
    "Ricor Demo Ltd": ("DER-0001", RegisterStatus.REGISTERED),
    "Galil Optronics Ltd": ("", RegisterStatus.PENDING),
}

USERS = [
    # username, role, organisation, ministry, first name, last name
    ("exporter", Role.EXPORTER, "Ricor Demo Ltd", "", "Dana", "Levi"),
    ("exporter2", Role.EXPORTER, "Galil Optronics Ltd", "", "Yossi", "Cohen"),
    ("defense", Role.REVIEWER, None, Ministry.DEFENSE, "Avi", "Mizrahi"),
    ("economy", Role.REVIEWER, None, Ministry.ECONOMY, "Noa", "Peretz"),
    ("foreign", Role.REVIEWER, None, Ministry.FOREIGN, "Tamar", "Biton"),
    ("defense-supervisor", Role.SUPERVISOR, None, Ministry.DEFENSE, "Eitan", "Friedman"),
    ("economy-supervisor", Role.SUPERVISOR, None, Ministry.ECONOMY, "Michal", "Katz"),
    ("foreign-supervisor", Role.SUPERVISOR, None, Ministry.FOREIGN, "Ronit", "Azulay"),
    ("committee", Role.COMMITTEE, None, "", "Yael", "Shapiro"),
    ("admin", Role.ADMINISTRATOR, None, "", "Site", "Administrator"),
]

DESTINATIONS = ["US", "DE", "GB", "FR", "IN", "CN", "JP", "AU", "CA", "PL", "BR", "SG"]


class Command(BaseCommand):
    help = "Load the reference data, the demo organisations and users, and optional applications."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--applications", type=int, default=0, help="Add N generated applications."
        )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            reference_data.load(apps)
            created = self._people()
        self.stdout.write(f"Demo users ready ({created} created); password from DEMO_PASSWORD.")
        if options["applications"]:
            self._applications(options["applications"])

    def _people(self) -> int:
        organisations = {}
        for name, (number, status) in ORGANISATIONS.items():
            organisations[name], _ = Organisation.objects.get_or_create(
                name=name, defaults={"register_number": number, "register_status": status}
            )
        created_count = 0
        for username, role, organisation, ministry, first, last in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "organisation": organisations.get(organisation),
                    "ministry": ministry,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "is_staff": role == Role.ADMINISTRATOR,
                    "is_superuser": role == Role.ADMINISTRATOR,
                },
            )
            if created:
                user.set_password(settings.DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created_count += 1
        return created_count

    def _applications(self, count: int) -> None:
        """`count` demo applications, cycling through every state people reach."""
        users = {u.username: u for u in User.objects.all()}
        entries = list(
            ControlListEntry.objects.filter(
                regime="dual_use", code__in=["6A003", "9A012", "5A002", "3A001", "1C010"]
            )
        )
        rng = random.Random(20261125)  # noqa: S311 - demo data, not secrets
        targets = itertools.cycle(DEMO_STATES)
        for _, target in zip(
            tqdm(range(count), desc="applications", unit="app"), targets, strict=False
        ):
            application = _demo_draft(users["exporter"], entries, rng, target)
            if target != ApplicationStatus.DRAFT:
                _advance(application, target, users, rng)


DEMO_STATES = [
    ApplicationStatus.DRAFT,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.INFORMATION_REQUESTED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.DENIED,
    ApplicationStatus.DISPUTED,
    ApplicationStatus.WITHDRAWN,
]


def _demo_draft(exporter: User, entries: list, rng: random.Random, target: str):
    """A dual-use draft with one or two goods; the disputed ones go to India (Foreign objects)."""
    from licensing.services.applications import application_create_draft

    goods = [
        {
            "description": f"Demo item {rng.randint(100, 999)}",
            "control_list_entry": entry,
            "quantity": rng.randint(1, 50),
            "unit_value": Decimal(rng.randint(1000, 250000)),
            "technology_generation": rng.choice(["current", "previous", "legacy"]),
        }
        for entry in rng.sample(entries, k=rng.randint(1, 2))
    ]
    destination = "IN" if target == ApplicationStatus.DISPUTED else rng.choice(DESTINATIONS)
    return application_create_draft(
        user=exporter,
        fields={
            "license_type": "dual_use_export",
            "destination_id": destination,
            "end_user_name": f"Demo End User {rng.randint(1, 500)}",
            "end_user_address": "1 Demo Street",
            "end_user_country_id": "US",
            "end_user_type": rng.choice(["commercial", "research", "government"]),
            "end_use": "Integration into civilian products.",
            "military_end_use": False,
        },
        goods=goods,
    )


def _advance(application, target: str, users: dict, rng: random.Random) -> None:
    """Take a demo draft through the services, as its people would, to `target`."""
    from licensing.services.applications import (
        application_decide,
        application_submit,
        application_withdraw,
    )
    from licensing.services.reviews import (
        review_claim,
        review_recommend,
        review_request_information,
    )

    exporter = users["exporter"]
    application = application_submit(application=application, user=exporter)
    reviews = list(Review.objects.filter(application=application))
    if target == ApplicationStatus.WITHDRAWN:
        application_withdraw(application=application, user=exporter, reason="Demo")
    elif target == ApplicationStatus.INFORMATION_REQUESTED:
        review_request_information(
            review=reviews[0],
            user=users[reviews[0].ministry],
            question="Please attach the end-user certificate.",
        )
    elif target != ApplicationStatus.UNDER_REVIEW:
        for i, review in enumerate(reviews):
            reviewer = users[review.ministry]
            review_claim(review=review, user=reviewer)
            deny = target == ApplicationStatus.DENIED or (
                target == ApplicationStatus.DISPUTED and i == 0
            )
            review_recommend(
                review=review,
                user=reviewer,
                recommendation="deny" if deny else "approve",
                reason="Demo reasons." if deny else "",
            )
        application.refresh_from_db()
        if application.status == ApplicationStatus.DISPUTED and rng.random() < 0.3:
            application_decide(
                application=application,
                user=users["committee"],
                decision="approve",
                reason="The committee accepts the end-user assurances.",
            )
