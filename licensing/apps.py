from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = "Export licensing"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from licensing import page_cache, reference_cache

        reference_cache.connect()
        # Every committed write starts a new generation of cached pages and answers.
        connection_created.connect(page_cache.install, dispatch_uid="page-cache-generation")
        post_migrate.connect(
            lambda **kwargs: page_cache.new_generation(),
            sender=self,
            weak=False,
            dispatch_uid="page-cache-migrated",
        )
        for connection in connections.all(initialized_only=True):
            page_cache.install(None, connection)
