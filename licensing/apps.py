from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = "Export licensing"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_migrate, post_save

        from accounts.models import Organisation
        from licensing import page_cache, reference_cache

        reference_cache.connect()
        # Kept pages name people and organisations (licensing.page_cache).
        for model in (get_user_model(), Organisation):
            name = model.__name__
            post_save.connect(
                page_cache.people_changed, sender=model, dispatch_uid=f"page-people-{name}"
            )
            post_delete.connect(
                page_cache.people_changed, sender=model, dispatch_uid=f"page-people-del-{name}"
            )
        # A migration may change anything: every page holds the reference data's stamp.
        post_migrate.connect(
            lambda **kwargs: reference_cache.invalidate(),
            sender=self,
            weak=False,
            dispatch_uid="page-cache-migrated",
        )
