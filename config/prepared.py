"""Queries asked on every request, compiled by the ORM once and run again with new values.

Building a queryset and compiling it to SQL costs more Python than PostgreSQL
spends answering a primary-key lookup. `prepare` takes a queryset built with
stand-in values, keeps the SQL the ORM wrote for it (a placeholder per value)
and how its columns make instances, including those of `select_related`
relations; `Prepared.all(*values)` then runs that SQL and builds the instances
as the ORM would, with the database's converters applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class _Part:
    """One model's columns in the row, and where its instance goes."""

    model: type[Model]
    attnames: tuple[str, ...]
    start: int
    stop: int
    parent: int | None  # the index of the part it hangs from
    local_setter: Callable[[Model, Model | None], None] | None
    remote_setter: Callable[[Model, Model], None] | None


@dataclass(frozen=True)
class Prepared:
    sql: str
    using: str
    parts: tuple[_Part, ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]
    params: tuple[Any, ...]
    """The query's own parameters; those at `slots` are replaced by the values given."""
    slots: tuple[int, ...]

    def all(self, *values: Any, known: dict[str, Model] | None = None) -> list[Model]:
        """The instances (with their `select_related` ones) of the rows for `values`.
        `known`: related objects the caller holds, by relation name, set on each instance
        as a related manager would (`application.goods` knows its application)."""
        if len(values) != len(self.slots):
            raise TypeError(f"{len(self.slots)} value(s) expected, {len(values)} given")
        params = list(self.params)
        for slot, value in zip(self.slots, values, strict=True):
            params[slot] = value
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        found = [self._build(self._convert(row, connection)) for row in rows]
        for name, related in (known or {}).items():
            field = self.parts[0].model._meta.get_field(name)
            for obj in found:
                field.set_cached_value(obj, related)
        return found

    def first(self, *values: Any) -> Model | None:
        found = self.all(*values)
        return found[0] if found else None

    def _convert(self, row: Sequence, connection) -> list:
        """The values as the ORM gives them (`SQLCompiler.apply_converters`)."""
        row = list(row)
        for index, funcs, expression in self.converters:
            value = row[index]
            for func in funcs:
                value = func(value, expression, connection)
            row[index] = value
        return row

    def _build(self, row: list) -> Model:
        made: list[Model | None] = []
        for part in self.parts:
            values = row[part.start : part.stop]
            parent = None if part.parent is None else made[part.parent]
            # A nullable relation that is absent has a NULL primary key: no instance.
            pk_index = part.attnames.index(part.model._meta.pk.attname)
            obj = (
                None
                if values[pk_index] is None
                else part.model.from_db(self.using, part.attnames, values)
            )
            if parent is not None:
                part.local_setter(parent, obj)
                if obj is not None:
                    part.remote_setter(obj, parent)
            made.append(obj)
        return made[0]


def prepare(queryset: QuerySet, *stand_ins: Any) -> Prepared:
    """`queryset`'s SQL and row layout, compiled once. `stand_ins`: the values it was built
    with that `all()` replaces, in the order `all()` takes them; each must be a parameter
    of the query, and occur in it once (its other parameters are kept as they are)."""
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    params = tuple(params)
    slots = []
    for stand_in in stand_ins:
        found = [i for i, param in enumerate(params) if param == stand_in]
        if len(found) != 1:
            raise ValueError(f"the stand-in {stand_in!r} is not once among {params!r}")
        slots.append(found[0])
    if compiler.annotation_col_map:
        raise ValueError("annotations are not supported; select model columns only")
    parts: list[_Part] = []
    _collect(compiler.klass_info, compiler.select, None, parts)
    # As `SQLCompiler.get_converters`: the backend's, then the field's.
    connection = compiler.connection
    converters = []
    for index, (expression, _, _) in enumerate(compiler.select):
        funcs = (
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        )
        if funcs:
            converters.append((index, funcs, expression))
    return Prepared(sql, queryset.db, tuple(parts), tuple(converters), params, tuple(slots))


def _collect(klass_info: dict, select, parent: int | None, parts: list[_Part]) -> None:
    indexes = klass_info["select_fields"]
    start, stop = indexes[0], indexes[-1] + 1
    if list(indexes) != list(range(start, stop)):
        raise ValueError("a model's columns are expected side by side")
    parts.append(
        _Part(
            model=klass_info["model"],
            attnames=tuple(select[i][0].target.attname for i in indexes),
            start=start,
            stop=stop,
            parent=parent,
            local_setter=klass_info.get("local_setter"),
            remote_setter=klass_info.get("remote_setter"),
        )
    )
    me = len(parts) - 1
    for related in klass_info.get("related_klass_infos", []):
        _collect(related, select, me, parts)
