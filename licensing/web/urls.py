from django.urls import path

from licensing.web import (
    actions,
    applications,
    drafts,
    licenses,
    notifications,
    queues,
    session,
    verify,
)

urlpatterns = [
    path("", queues.home, name="home"),
    # How long the session has left, and "Stay logged in" (middleware.SESSION_STATUS_PATH).
    path("session/", session.session_status, name="session"),
    path("reviews/reassign/", queues.reassign_many, name="reassign-many"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification-open"),
    path("licenses/", licenses.license_list, name="license-list"),
    path("licenses/<int:pk>/", licenses.license_detail, name="license-detail"),
    path("applications/new/", applications.application_edit, name="application-new"),
    path("applications/<int:pk>/", applications.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", applications.application_edit, name="application-edit"),
    path("applications/<int:pk>/check/", drafts.application_check, name="application-check"),
    # Public: where a licence document's QR code points.
    path("verify/<slug:code>/", verify.license_verify, name="license-verify"),
    # Every action a page offers posts here; the rulebook names them.
    path("<slug:target>/<int:pk>/<slug:name>/", actions.act, name="act"),
]
