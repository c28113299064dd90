from django.core.management.base import BaseCommand, CommandError

from licensing.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain and name the first broken event."

    def handle(self, *args, **options) -> None:
        report = audit_verify_chain()
        if not report.ok:
            event = report.broken
            raise CommandError(
                f"Audit chain broken at event {event.pk} ({event.created_at:%Y-%m-%d %H:%M:%S} "
                f"{event.action} by {event.actor_name}): {report.problem}. "
                f"{report.checked} events before it verified."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified.")
        )
