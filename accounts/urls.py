"""The login's second step and the Security page (two-factor login)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("two-factor/", views.verify, name="two-factor-verify"),
    path("security/", views.security, name="security"),
    path("security/two-factor/", views.setup, name="two-factor-setup"),
    path("security/two-factor/off/", views.turn_off, name="two-factor-off"),
]
