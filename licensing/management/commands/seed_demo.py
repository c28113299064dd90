"""Demo organisations, users and (optionally) applications in every state.

Idempotent: users and organisations are matched by name, so running it
twice changes nothing. `--applications N` adds N more applications each run,
written in bulk by `licensing.demo.bulk` (thousands a second, a
million in constant memory), each with the rows and the audit trail the
services would have written.
"""

from __future__ import annotations

import sys

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from accounts import two_factor
from accounts.models import Ministry, Organisation, RegisterStatus, Role, User
from licensing import policies, reference_data
from licensing.demo.bulk import seed_applications

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

# The demo administrator's authenticator key while DEBUG is on (administrators must use
# two-factor login), documented in README.md so whoever tries the product can add it to
# an authenticator app: base32 MRSW23ZNMFSG22LOFV2G65DQFVVWK6JB. With DEBUG off the key
# is random and printed once, when it is created.
DEMO_TOTP_KEY = b"demo-admin-totp-key!".hex()


class Command(BaseCommand):
    help = "Load the reference data, the demo organisations and users, and optional applications."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--applications", type=int, default=0, help="Add N generated applications."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            help="Applications written per transaction (default 5000).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="Seed of the random draws, to reproduce a run (default: the number of"
            " applications already there).",
        )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            reference_data.load(apps)
            created = self._people()
        self.stdout.write(f"Demo users ready ({created} created); password from DEMO_PASSWORD.")
        self._authenticators()
        from licensing.services.screening import screening_sample_list_load

        if screening_sample_list_load() is not None:
            self.stdout.write("Sample screening list loaded (made-up names).")
        if options["applications"]:
            self._applications(options["applications"], options["chunk_size"], options["seed"])

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

    def _authenticators(self) -> None:
        """An authenticator for each demo user who must use two-factor login (the admin)."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        usernames = [username for username, *_ in USERS]
        for user in User.objects.filter(username__in=usernames).order_by("pk"):
            if not policies.must_use_two_factor(user):
                continue
            device = two_factor.device_of(user)
            created = device is None
            if created:
                fields = {"key": DEMO_TOTP_KEY} if settings.DEBUG else {}
                device = TOTPDevice.objects.create(
                    user=user, name=two_factor.DEVICE_NAME, confirmed=True, **fields
                )
            if created or (settings.DEBUG and device.key == DEMO_TOTP_KEY):
                self.stdout.write(
                    f"Two-factor key of {user.username} (add it to an authenticator app): "
                    f"{two_factor.key_base32(device)}"
                )

    def _applications(self, count: int, chunk_size: int, seed: int | None) -> None:
        with tqdm(total=count, desc="applications", unit="app", file=sys.stderr) as bar:
            report = seed_applications(count, chunk_size=chunk_size, seed=seed, progress=bar.update)
        states = ", ".join(f"{state} {n}" for state, n in sorted(report.by_state.items()))
        self.stdout.write(
            f"Added {report.applications} applications ({states}) and {report.events} audit events."
        )
