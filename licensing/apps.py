from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = "Export licensing"

    def ready(self) -> None:
        from licensing import reference_cache

        reference_cache.connect()
