from datetime import date

from django.core.management.base import BaseCommand, CommandError

from licensing.services.deadlines import deadlines_sweep


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today takes a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Send reminders and apply due escalation steps; --today replays a missed day."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--today", type=str, help="The local date to sweep as (YYYY-MM-DD).")

    def handle(self, *args, **options) -> None:
        today = _date(options["today"]) if options["today"] else None
        report = deadlines_sweep(today=today)
        self.stdout.write(str(report))
