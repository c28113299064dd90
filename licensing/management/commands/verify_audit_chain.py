import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from licensing.audit import audit_log_read, audit_verify_chain
from licensing.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain and name the first broken event; compare it "
        "with the anchors and, with --log, with every event logged as it committed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Events read per round trip."
        )
        parser.add_argument(
            "--log",
            action="append",
            default=[],
            metavar="FILE",
            help=(
                "A log holding the licensing.audit.anchor logger's lines ('-' for standard "
                "input); repeat for several. Every logged event must be in the trail, "
                "unchanged."
            ),
        )

    def handle(self, *args, **options) -> None:
        # The log first: its every line was written after its event committed, so before
        # the check's snapshot, and an event appended meanwhile is not taken for a cut.
        logged = self._read_logs(options["log"])
        # The total is an estimate for the bar only; the check streams whatever is there.
        with tqdm(
            total=AuditEvent.objects.count(), desc="events", unit="event", file=sys.stderr
        ) as bar:
            report = audit_verify_chain(
                batch_size=options["batch_size"], progress=bar.update, logged=logged
            )
        if not report.ok and report.broken is None:
            raise CommandError(f"Audit chain not verified: {report.problem}.")
        if not report.ok:
            event = report.broken
            raise CommandError(
                f"Audit chain broken at event {event.pk} ({event.created_at:%Y-%m-%d %H:%M:%S} "
                f"{event.action} by {event.actor_name}): {report.problem}. "
                f"{report.checked} events before it verified."
            )
        if not report.anchors and not options["log"]:
            self.stderr.write(
                self.style.WARNING(
                    "Compared with nothing outside the database (no anchor, no --log): "
                    "events cut off the end, or every event deleted, would look intact."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} events verified "
                f"(against {report.anchors} anchors and {report.logged} logged events)."
            )
        )

    def _read_logs(self, names: list[str]) -> dict[int, str]:
        logged: dict[int, str] = {}
        for name in names:
            try:
                if name == "-":
                    found = audit_log_read(sys.stdin)
                else:
                    with Path(name).open(errors="replace") as lines:
                        found = audit_log_read(lines)
            except (OSError, ValueError) as error:
                raise CommandError(f"Audit log {name} not usable: {error}.") from None
            for seq, hash_ in found.items():
                if logged.setdefault(seq, hash_) != hash_:
                    raise CommandError(
                        f"Audit logs not usable: event {seq} is logged with two different hashes."
                    )
        return logged
