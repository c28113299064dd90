"""Query expressions the ORM composes like its own (public `Subquery` API only)."""

from __future__ import annotations

from django.db.models import IntegerField, QuerySet, Subquery


class CappedCount(Subquery):
    """COUNT(*) of at most `cap` of a queryset's rows, as a scalar subquery: a long list
    costs no more than `cap` rows to count. The queryset may be correlated with the outer
    query through `OuterRef`."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()

    def __init__(self, rows: QuerySet, cap: int, **extra) -> None:
        super().__init__(rows.order_by().values("pk")[:cap], **extra)
