from django.core.management.base import BaseCommand, CommandError

from licensing.models import ScreeningList
from licensing.services.screening import screening_rescreen_list


class Command(BaseCommand):
    help = (
        "Screen open cases and live licenses against a screening list again, here and now "
        "(what the worker does after a list changes; idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--list", required=True, dest="list_name", help="The list's name.")

    def handle(self, *args, **options) -> None:
        screening_list = ScreeningList.objects.filter(name=options["list_name"]).first()
        if screening_list is None:
            raise CommandError(f"No screening list is named {options['list_name']!r}.")
        found = screening_rescreen_list(list_id=screening_list.pk)
        self.stdout.write(self.style.SUCCESS(f"{found} new match(es)."))
