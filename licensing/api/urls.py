from django.urls import path, re_path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from licensing.api import views
from licensing.api.errors import not_found

router = SimpleRouter()
router.register("countries", views.CountryViewSet, basename="country")
router.register(
    "control-list-entries", views.ControlListEntryViewSet, basename="control-list-entry"
)
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("licenses", views.LicenseViewSet, basename="license")
router.register("notifications", views.NotificationViewSet, basename="notification")


class TokenView(ObtainAuthToken):
    """Username and password for a token; throttled per client against password guessing."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
    re_path(r"", not_found),
]
