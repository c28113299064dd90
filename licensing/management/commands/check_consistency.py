from django.core.management.base import BaseCommand, CommandError

from licensing.consistency import RULES, consistency_breaches


class Command(BaseCommand):
    help = (
        "Check every application against the cross-row rules the services keep (after a"
        " restore, a migration or a bulk seed); exits non-zero naming the cases that break one."
    )

    def handle(self, *args, **options) -> None:
        breaches = consistency_breaches()
        says = {rule.name: rule.says for rule in RULES}
        for name, references in breaches.items():
            shown = ", ".join(references[:20]) + (" ..." if len(references) > 20 else "")
            self.stderr.write(f"{name}: {says[name]} Broken by {len(references)}: {shown}")
        if breaches:
            raise CommandError(f"{len(breaches)} rule(s) broken: {', '.join(breaches)}.")
        self.stdout.write(self.style.SUCCESS(f"All {len(RULES)} rules hold."))
