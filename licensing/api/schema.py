"""The OpenAPI schema: every operation documents the errors it can really answer."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

from licensing import rulebook
from licensing.api import serializers as s
from licensing.models import Application, License, Review

# The enums of `available_transitions` (named in SPECTACULAR_SETTINGS), from the rulebook.
APPLICATION_ACTIONS = rulebook.endpoint_names(Application)
REVIEW_ACTIONS = rulebook.endpoint_names(Review)
LICENSE_ACTIONS = rulebook.endpoint_names(License)


class LicensingAutoSchema(AutoSchema):
    def _error_responses(self) -> dict[str, object]:
        errors: dict[str, object] = {"400": OpenApiTypes.OBJECT}  # field -> messages
        if self.view.permission_classes:  # everything but the token endpoint and the schema
            errors["401"] = s.ErrorSerializer
            errors["403"] = s.ErrorSerializer
        path_has_id = "{" in self.path
        if path_has_id or self.method == "GET":
            errors["404"] = s.ErrorSerializer  # an invisible object, or a page past the end
        if self.method in ("POST", "PATCH", "DELETE") and path_has_id:
            errors["409"] = s.ConflictSerializer
        if self.method in ("POST", "PATCH"):
            errors["413"] = s.ErrorSerializer  # a body (or document) over the limit
        if getattr(self.view, "throttle_scope", None):
            errors["429"] = s.ErrorSerializer
        return errors

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, serializer in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code)
        return responses
