"""Demo organisations, users and (optionally) applications in every state.

A thin entry point over `licensing.demo`. Idempotent: users and organisations are
matched by name (`licensing.demo.people`), so running it twice changes nothing.
`--applications N` adds N more applications each run, written in bulk by
`licensing.demo.bulk` (thousands a second, a million in constant memory), each with
the rows and the audit trail the services would have written.
"""

from __future__ import annotations

import sys

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from licensing import reference_data
from licensing.demo.bulk import seed_applications
from licensing.demo.people import demo_authenticators_ensure, demo_people_ensure


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
            created = demo_people_ensure()
        self.stdout.write(f"Demo users ready ({created} created); password from DEMO_PASSWORD.")
        for username, key in demo_authenticators_ensure():
            self.stdout.write(
                f"Two-factor key of {username} (add it to an authenticator app): {key}"
            )
        from licensing.services.screening import screening_sample_list_load

        if screening_sample_list_load() is not None:
            self.stdout.write("Sample screening list loaded (made-up names).")
        if options["applications"]:
            self._applications(options["applications"], options["chunk_size"], options["seed"])

    def _applications(self, count: int, chunk_size: int, seed: int | None) -> None:
        with tqdm(total=count, desc="applications", unit="app", file=sys.stderr) as bar:
            report = seed_applications(count, chunk_size=chunk_size, seed=seed, progress=bar.update)
        states = ", ".join(f"{state} {n}" for state, n in sorted(report.by_state.items()))
        self.stdout.write(
            f"Added {report.applications} applications ({states}) and {report.events} audit events."
        )
