"""The session's user, loaded with what every page's header shows."""

from __future__ import annotations

import functools

from django.contrib.auth.backends import ModelBackend, UserModel
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL

from accounts.models import Role

# The header counts unread notifications up to this many ("99+" beyond): a person with
# twelve thousand unread costs the same index probe as one with three.
UNREAD_CAP = 100


def unread_subquery() -> RawSQL:
    """COUNT(*) of at most UNREAD_CAP of the user's unread notifications (an index-only
    probe of notification_unread_idx), correlated with the user's own row."""
    from licensing.models import Notification

    quote = connection.ops.quote_name
    notifications, users = Notification._meta.db_table, UserModel._meta.db_table
    sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {quote(notifications)} unread "  # noqa: S608
        f"WHERE unread.recipient_id = {quote(users)}.{quote('id')} "
        f"AND unread.read_at IS NULL LIMIT {UNREAD_CAP}) capped"
    )
    return RawSQL(sql, (), output_field=IntegerField())  # noqa: S611 - no parameters


class UserWithUnreadBackend(ModelBackend):
    """Django's model backend, whose per-request user query also counts unread notifications.

    The header shows the count on every page; as a subquery of the user's own
    query it costs no query of its own.
    """

    def get_user(self, user_id):
        # Every request asks this: the query is written once (`user_query`), not compiled
        # by the ORM each time.
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        user = next(iter(UserModel._default_manager.raw(user_query(), [user_id])), None)
        if user is None:
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


@functools.cache
def user_query() -> str:
    """The session's user with its unread count, as SQL (the ORM's own, compiled once)."""
    query = UserModel._default_manager.annotate(unread_notifications=unread_subquery())
    sql, params = query.filter(pk=0).query.sql_with_params()
    assert params == (0,), params  # the primary key is the only parameter
    return sql
