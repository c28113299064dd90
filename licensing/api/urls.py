from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from licensing.api import views
from licensing.api.auth import LogoutView, TokenView
from licensing.api.errors import not_found

router = SimpleRouter()
router.register("countries", views.CountryViewSet, basename="country")
router.register(
    "control-list-entries", views.ControlListEntryViewSet, basename="control-list-entry"
)
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("screening-matches", views.ScreeningMatchViewSet, basename="screening-match")
router.register("licenses", views.LicenseViewSet, basename="license")
router.register("notifications", views.NotificationViewSet, basename="notification")


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    *router.urls,
    re_path(r"", not_found),
]
