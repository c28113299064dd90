from django.urls import path

from licensing.web import actions, applications, drafts, queues, verify

urlpatterns = [
    path("", queues.home, name="home"),
    path("applications/new/", applications.application_edit, name="application-new"),
    path("applications/<int:pk>/", applications.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", applications.application_edit, name="application-edit"),
    path("applications/<int:pk>/check/", drafts.application_check, name="application-check"),
    # Public: where a licence document's QR code points.
    path("verify/<slug:code>/", verify.license_verify, name="license-verify"),
    # Every action a page offers posts here; the rulebook names them.
    path("<slug:target>/<int:pk>/<slug:name>/", actions.act, name="act"),
]
