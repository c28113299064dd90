from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from licensing.api.docs import DocsView, SchemaView
from licensing.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("licensing.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("", include("licensing.web.urls")),
]

# The database unreachable is a 503 wherever it is met (licensing/web/unavailable.py).
handler500 = "licensing.web.unavailable.server_error"
# A query string no page links to is a 400 that says why (licensing/web/errors.py).
handler400 = "licensing.web.errors.bad_request"
