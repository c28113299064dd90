import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from licensing.exceptions import InvalidInput
from licensing.models import Country
from licensing.services.screening import (
    screening_csv_text,
    screening_list_import,
    screening_rows_read,
)


class Command(BaseCommand):
    help = (
        "Load a screening list from a CSV file (columns name,aliases,country,remarks; aliases "
        "separated by ';'), replacing the list's entries, all or nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--list", required=True, dest="list_name", help="The list's name.")
        parser.add_argument("file", help="The CSV file (UTF-8).")
        parser.add_argument(
            "--blocking",
            action="store_true",
            help="A new list is blocking: an exact match refuses submission.",
        )
        parser.add_argument("--source", default="", help="Where the list comes from.")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        try:
            text = screening_csv_text(path.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text ({error.reason}).") from None
        countries = set(Country.objects.values_list("code", flat=True))
        try:
            rows = screening_rows_read(text, countries)
        except InvalidInput as error:
            problems = "\n".join(m for ms in error.errors.values() for m in ms)
            raise CommandError(f"{path}: nothing imported.\n{problems}") from None
        name = options["list_name"].strip()
        if not name or len(name) > 100:
            raise CommandError("Give the list a name of 1 to 100 characters.")
        with tqdm(total=len(rows), desc="entries", unit="entry", file=sys.stderr) as bar:
            screening_list = screening_list_import(
                name=name,
                rows=rows,
                blocking=options["blocking"],
                source=options["source"],
                progress=bar.update,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rows)} entries imported into {screening_list.name}"
                f"{' (blocking)' if screening_list.blocking else ''}; open cases and live "
                "licenses are being screened against it again."
            )
        )
