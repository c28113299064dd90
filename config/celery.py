"""The Celery app: broker from REDIS_URL (or the filesystem transport), JSON only."""

import os
from pathlib import Path

from celery import Celery, beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("licensing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender, **kwargs) -> None:
    """The filesystem transport needs its folders before the first message."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


class PersistentScheduler(beat.PersistentScheduler):
    """Celery's default beat scheduler, which first creates its schedule file's folder.

    A fresh clone has no var/, and beat is the only process that needs
    CELERY_BEAT_SCHEDULE_FILENAME's folder, whatever the database and broker.
    """

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()
