"""Typed errors the services raise; the API maps each to one status code."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a message a user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotPermitted(ServiceError):
    """The caller may see the object but may not do this to it (403)."""


class TransitionConflict(ServiceError):
    """Not allowed from the current state, or lost to a concurrent change (409).

    `code` and `errors` (messages by field, as `InvalidInput` has them) say more
    when the state allows the action but what was asked does not fit it now,
    such as a shipment exceeding what remains on the licence.
    """

    def __init__(
        self,
        message: str,
        *,
        current_state: str,
        code: str = "",
        errors: dict[str, list[str]] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.current_state = current_state
        self.code = code
        self.errors = errors or {}
        self.extra = extra or {}
        """More of the body: what is in the way (`amendment`: the draft's id)."""


class LimitReached(TransitionConflict):
    """The object holds as many of something as it may (409, with a `code`): such as
    DOCUMENT_MAX_COUNT documents on one application. Nothing in the request can fix it."""

    def __init__(self, message: str, *, current_state: str, code: str) -> None:
        super().__init__(message, current_state=current_state, code=code)


class InvalidInput(ServiceError):
    """Bad or incomplete input, with a message per field (400)."""

    def __init__(self, errors: dict[str, list[str]] | str, *, code: str = "invalid") -> None:
        if isinstance(errors, str):
            errors = {"non_field_errors": [errors]}
        super().__init__("; ".join(msg for msgs in errors.values() for msg in msgs))
        self.errors = errors
        self.code = code


class SubmissionRefused(InvalidInput):
    """A rule refuses submission: embargoed destination, unregistered exporter, incomplete."""


class TooLarge(ServiceError):
    """An upload over the size limit (413)."""
