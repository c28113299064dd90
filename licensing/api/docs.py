"""The OpenAPI schema and Swagger UI: public while debugging, behind a login otherwise.

API_DOCS_PUBLIC (default: DEBUG) decides, at each request, so a test can turn it.
The schema answers 401 to an anonymous script, like the rest of the API; the
docs page sends a person to the login form and back.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


class DocsPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsPermission]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script as a second request (no inline script) and
    a template of ours without the package's inline <style> (the CSP allows neither)."""

    template_name = "api/swagger_ui.html"
    permission_classes = []

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        user = request.user  # None when anonymous (UNAUTHENTICATED_USER)
        if not settings.API_DOCS_PUBLIC and not (user and user.is_authenticated):
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)
