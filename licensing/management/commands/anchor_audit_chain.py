from django.core.management.base import BaseCommand

from licensing.audit import audit_anchor


class Command(BaseCommand):
    help = "Write the audit chain's head, signed, outside the database (AUDIT_ANCHOR_DIR)."

    def handle(self, *args, **options) -> None:
        anchor = audit_anchor()
        self.stdout.write(
            f"Anchored {anchor.count} events (last {anchor.last_id}, {anchor.last_hash}) "
            f"in {anchor.path}."
        )
