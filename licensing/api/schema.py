"""The OpenAPI schema: every operation documents the errors it can really answer."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

from licensing import rulebook
from licensing.api import serializers as s
from licensing.models import Application, License, Review, ScreeningMatch

# The enums of `available_transitions` (named in SPECTACULAR_SETTINGS), from the rulebook.
APPLICATION_ACTIONS = rulebook.endpoint_names(Application)
REVIEW_ACTIONS = rulebook.endpoint_names(Review)
LICENSE_ACTIONS = rulebook.endpoint_names(License)
SCREENING_MATCH_ACTIONS = rulebook.endpoint_names(ScreeningMatch)


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


def _null_alternative(schema: dict, components: dict) -> dict:
    """The branch that lets a reference be null in OpenAPI 3.0.3, where `nullable` operates
    only beside a `type` in the same Schema Object (so `{allOf: [$ref], nullable: true}`
    still rejects null: the referenced schema does)."""
    null: dict[str, object] = {"nullable": True, "enum": [None]}
    ref = schema.get("$ref", "")
    target = components.get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("#/") else {}
    if isinstance(target.get("type"), str):
        null = {"type": target["type"], **null}
    return null


def _nullable_references(node: object, components: dict) -> object:
    if isinstance(node, list):
        return [_nullable_references(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_references(value, components) for key, value in node.items()}
    if node.get("nullable") is True and "type" not in node and "allOf" in node:
        node.pop("nullable")
        parts = node.pop("allOf")
        inner = parts[0] if len(parts) == 1 else {"allOf": parts}
        node["oneOf"] = [inner, _null_alternative(inner, components)]
    return node


def postprocess_nullable_references(result, generator, request, public):
    """A nullable nested object (`consignee`, `license`, `assigned_to`, ...) as OpenAPI 3.0.3
    means it: `oneOf` the object or null, which strict validators and clients accept."""
    components = result.get("components", {}).get("schemas", {})
    return _nullable_references(result, components)
