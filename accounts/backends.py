"""The session's user, loaded with what every page's header shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.backends import ModelBackend, UserModel
from django.db.models import OuterRef

from accounts.models import Role

if TYPE_CHECKING:
    from licensing.expressions import CappedCount

# The header counts unread notifications up to this many ("99+" beyond): a person with
# twelve thousand unread costs the same index probe as one with three.
UNREAD_CAP = 100


def unread_subquery() -> CappedCount:
    """COUNT(*) of at most UNREAD_CAP of the user's unread notifications (an index-only
    probe of notification_unread_idx), correlated with the user's own row."""
    from licensing.expressions import CappedCount
    from licensing.models import Notification

    unread = Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
    return CappedCount(unread, UNREAD_CAP)


class UserWithUnreadBackend(ModelBackend):
    """Django's model backend, whose per-request user query also counts unread notifications.

    The header shows the count on every page; as a subquery of the user's own
    query it costs no query of its own.
    """

    def get_user(self, user_id):
        users = UserModel._default_manager.annotate(unread_notifications=unread_subquery())
        try:
            user = users.get(pk=user_id)
        except (UserModel.DoesNotExist, TypeError, ValueError):
            return None
        return user if self.user_can_authenticate(user) else None

    # Administrators by role have every permission in the admin, as superusers do (both are
    # `User.is_administrator`): one created in the admin with the role alone can work there.

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return _administrator(user_obj) or super().has_perm(user_obj, perm, obj=obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return _administrator(user_obj) or super().has_module_perms(user_obj, app_label)


def _administrator(user_obj) -> bool:
    return bool(user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMINISTRATOR)
