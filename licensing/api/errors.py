"""One mapping from service errors to status codes, for every API view."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from licensing.exceptions import InvalidInput, NotPermitted, TooLarge, TransitionConflict


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, TransitionConflict):
        body: dict = {"detail": exc.message, "current_state": exc.current_state}
        if exc.code:
            body["code"] = exc.code
        if exc.errors:
            body["errors"] = exc.errors
        body.update(exc.extra)
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, InvalidInput):
        return Response({**exc.errors, "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, TooLarge):
        return Response({"detail": exc.message}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, NotPermitted):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is larger than the limit."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        return Response(
            {"detail": "The request has too many fields."}, status=status.HTTP_400_BAD_REQUEST
        )
    return drf_exception_handler(exc, context)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than the limit."
    default_code = "too_large"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, *args, **kwargs) -> Response:
    """Any other path under the API: a JSON 404 (after authentication), never an HTML page."""
    raise NotFound()
