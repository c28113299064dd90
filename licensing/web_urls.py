from django.urls import path

from licensing import web

urlpatterns = [
    path("applications/new/", web.application_edit, name="application-new"),
    path("applications/<int:pk>/", web.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", web.application_edit, name="application-edit"),
    path(
        "applications/<int:pk>/<slug:action>/",
        web.application_action,
        name="application-action",
    ),
    path("reviews/<int:pk>/<slug:action>/", web.review_action, name="review-action"),
    path("licenses/<int:pk>/<slug:action>/", web.license_action, name="license-action"),
]
