"""Page-number pagination whose schema says what it takes, and which refuses the rest.

`page` is a whole number from 1 (past the last page: 404 "Invalid page."); `page_size`
a whole number from 1, a larger one than MAX_PAGE_SIZE giving MAX_PAGE_SIZE rows. A
`page_size` that is no such number is a 400 naming it, rather than silently the default,
so a client's mistake is never mistaken for an answer.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 100
# Longer than this, a page size is far past MAX_PAGE_SIZE: not worth converting.
_DIGITS = 18


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # the schema's `page` is a number: "last" is no page either

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or size < 1:
            raise ValidationError(
                {self.page_size_query_param: ["Give a whole number of rows per page, from 1."]}
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, from 1; more than {self.max_page_size} gives "
                    f"{self.max_page_size}."
                )
        return parameters


def _whole_number(raw: str) -> int | None:
    """ASCII digits only ("²" is a digit to `isdigit`, "1.0" and " 1" are not numbers)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw) if len(raw) <= _DIGITS else 10**_DIGITS
