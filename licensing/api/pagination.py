"""Page-number pagination whose schema says what it takes, which refuses the rest, and
which never counts a long list to its end.

`page` is a whole number from 1 (past the last page: 404 "Invalid page."); `page_size`
a whole number from 1, a larger one than MAX_PAGE_SIZE giving MAX_PAGE_SIZE rows. A
`page_size` that is no such number is a 400 naming it, rather than silently the default,
so a client's mistake is never mistaken for an answer.

`count` is exact up to COUNT_CAP rows. A longer list is counted no further (a ministry's
queue over a decade's archive would otherwise be counted to its end on every page):
`count` is then a lower bound (COUNT_CAP, or the rows up to this page's end if more) and
`count_capped` is true; `next` still comes from the rows themselves (each page reads one
row more than it shows), so following it walks the whole list, and a page number past
the cap is served by offset like any other. On the last page the total is known, so
`count` is exact there again and `count_capped` false.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

MAX_PAGE_SIZE = 100
# A list is counted up to this many rows, never further (the pages' own cap,
# `licensing.web.queues.COUNT_CAP`, is the same): a COUNT(*) of at most COUNT_CAP + 1 rows.
COUNT_CAP = 1000
MAX_ROW = 2**63 - 1  # the largest row offset (a 64-bit integer) a database takes
# Longer than this, a page size is far past MAX_PAGE_SIZE: not worth converting.
_DIGITS = 18


def count_up_to(rows: QuerySet, limit: int) -> int:
    """How many rows `rows` has, counting no further than `limit`:
    `SELECT COUNT(*) FROM (SELECT id ... LIMIT limit)`, whatever the list's length."""
    if not isinstance(rows, QuerySet):
        return min(len(rows), limit)
    return rows.order_by().values("pk")[:limit].count()


class _Total:
    """What a Paginator counts, told rather than counted."""

    def __init__(self, total: int) -> None:
        self.total = total

    def count(self) -> int:
        return self.total


class ListPage(Page):
    """A page whose `next` comes from the rows read (one more than shown), not the count."""

    def __init__(self, rows: list, number: int, total: int, size: int, *, more: bool) -> None:
        super().__init__(rows, number, Paginator(_Total(total), size))
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # the schema's `page` is a number: "last" is no page either
    count_cap = COUNT_CAP

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        """Two queries whatever the list's length: its count up to the cap, and the page's
        rows and one more (to know whether another page follows)."""
        self.request = request
        size = self.get_page_size(request)
        number = _whole_number(request.query_params.get(self.page_query_param) or "1")
        if number is None or number < 1 or number * size + 1 > MAX_ROW:
            raise NotFound(self.invalid_page_message)
        counted = count_up_to(queryset, self.count_cap + 1)
        capped = counted > self.count_cap
        start = (number - 1) * size
        if number > 1 and start >= counted and not capped:
            raise NotFound(self.invalid_page_message)  # past the end, known without reading
        rows = list(queryset[start : start + size + 1])
        if number > 1 and not rows:
            raise NotFound(self.invalid_page_message)  # past the end of a list past the cap
        more = len(rows) > size
        rows = rows[:size]
        if not capped:
            total = counted
        elif more:
            total = max(self.count_cap, start + size)  # at least: more rows follow
        else:
            total, capped = start + len(rows), False  # the last page: now it is exact
        self.count_capped = capped
        self.page = ListPage(rows, number, total, size, more=more)
        self.display_page_controls = self.template is not None and (more or number > 1)
        return rows

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "count": self.page.paginator.count,
                "count_capped": self.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["count"]["description"] = (
            f"How many rows the list holds, counted up to {self.count_cap}: when "
            "`count_capped` is true, a lower bound."
        )
        paginated["properties"] = {
            "count": properties.pop("count"),
            "count_capped": {
                "type": "boolean",
                "description": f"True when the list holds more than `count` rows: it was "
                f"counted no further than {self.count_cap}. Follow `next` to the end (where "
                "`count` is exact again), or narrow the list with its filters.",
            },
            **properties,
        }
        paginated["required"] = ["count", "count_capped", "results"]
        return paginated

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
