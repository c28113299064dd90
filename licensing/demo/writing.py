"""Writing a chunk's rows: reference numbers taken in one go, and one COPY per table."""

from __future__ import annotations

import json
import operator
from collections import defaultdict

from django.db import connection, models

from licensing import page_cache
from licensing.models import ReferenceCounter


def take_numbers(prefix: str, years: list[int]) -> list[str]:
    """`PREFIX-YEAR-000123` for each year given, in order, advancing each year's counter."""
    wanted: dict[int, int] = defaultdict(int)
    for year in years:
        wanted[year] += 1
    nxt: dict[int, int] = {}
    for year in sorted(wanted):
        ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
        counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
        nxt[year] = counter.last + 1
        counter.last += wanted[year]
        counter.save(update_fields=["last"])
    numbers = []
    for year in years:
        numbers.append(f"{prefix}-{year}-{nxt[year]:06d}")
        nxt[year] += 1
    return numbers


def copy_rows(model: type[models.Model], rows: list[dict]) -> None:
    """Write rows (dicts by attname; missing columns take the field's default) in one go."""
    if not rows:
        return
    # Rows nothing else points at leave their ids to the database.
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or "id" in rows[0]]
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    in_order = operator.itemgetter(*names)
    # Rows written beside the services: no kept page is current once they commit.
    page_cache.everything_changed()
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_columns = [
                (i, f.encoder) for i, f in enumerate(fields) if isinstance(f, models.JSONField)
            ]
            # psycopg formats a datetime ten times slower than its ISO text, which COPY parses.
            dates = [
                i
                for i, f in enumerate(fields)
                if isinstance(f, models.DateField | models.DecimalField)
            ]
            dumped: dict[int, str] = {}  # rows of one notify() share their context
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = list(in_order({**defaults, **row}))
                    for i, encoder in json_columns:
                        value = values[i]
                        text = dumped.get(id(value))
                        if text is None:
                            text = dumped[id(value)] = json.dumps(value, cls=encoder)
                        values[i] = text
                    for i in dates:
                        if values[i] is not None:
                            values[i] = str(values[i])
                    copy.write_row(values)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - model's own table
            [
                [
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(fields, in_order({**defaults, **row}), strict=True)
                ]
                for row in rows
            ],
        )
