"""The session's user, loaded with what every page's header shows."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend, UserModel
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


class UserWithUnreadBackend(ModelBackend):
    """Django's model backend, whose per-request user query also counts unread notifications.

    The header shows the count on every page; as a subquery of the user's own
    query it costs no query of its own.
    """

    def get_user(self, user_id):
        from licensing.models import Notification

        unread = (
            Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
            .order_by()
            .values("recipient")
            .annotate(n=Count("*"))  # COUNT(*): an index-only scan of notification_unread_idx
            .values("n")
        )
        try:
            user = UserModel._default_manager.annotate(
                unread_notifications=Coalesce(Subquery(unread, output_field=IntegerField()), 0)
            ).get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
