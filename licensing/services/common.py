"""What every service shares: locking, running a transition, reference numbers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db import connection, models, transaction
from django.http import Http404
from django_fsm import ConcurrentTransition, FSMField, TransitionNotAllowed

from licensing.exceptions import TransitionConflict
from licensing.models import ReferenceCounter

M = TypeVar("M", bound=models.Model)


def lock(model: type[M], pk: int, *, related: tuple[str, ...] = ()) -> M:
    """Re-read the row under a lock (PostgreSQL `SELECT ... FOR UPDATE` of its own row);
    `related`: the rows read with it (not locked)."""
    rows = model.objects.select_for_update(of=("self",)).select_related(*related)
    return _remember(rows.get(pk=pk))


def _remember(obj: M) -> M:
    """Keep what the row held when read under its lock: a transition then writes only the
    columns that changed since (`run_transition`)."""
    obj._as_locked = {
        f.attname: obj.__dict__[f.attname]
        for f in obj._meta.concrete_fields
        if f.attname in obj.__dict__
    }
    return obj


def _changed_fields(obj: models.Model) -> list[str] | None:
    """The fields to save after a transition: those changed since the lock, the state
    field (the concurrent-transition check filters on it), `auto_now` stamps and JSON
    values (always: one changed in place compares equal to itself, and Python takes
    `1 == True`); None (all) for an object not read by `lock`, `locked` or `holding`."""
    loaded = getattr(obj, "_as_locked", None)
    if loaded is None:
        return None
    return [
        f.name
        for f in obj._meta.concrete_fields
        if not f.primary_key
        and f.attname in obj.__dict__
        and (
            isinstance(f, FSMField)
            or getattr(f, "auto_now", False)
            or f.attname not in loaded
            or isinstance(obj.__dict__[f.attname], dict | list)
            or obj.__dict__[f.attname] != loaded[f.attname]
        )
    ]


# The row a caller read locked for the services it runs next (`holding`), in this thread.
_held: ContextVar[models.Model | None] = ContextVar("held", default=None)


@contextmanager
def holding(find: Callable[[], M | None]) -> Iterator[M]:
    """In a new transaction: the row `find` reads with `SELECT ... FOR UPDATE` (404 if it
    finds none); the services run in the block find it held (`locked`) and join this
    transaction, with no savepoint and no second read.

    For an endpoint that checks who may act and the input before the service acts: one
    read of the row, under the lock the service takes anyway. Only for the application
    (`licensing.selectors.application_locked_for`), the first row every service locks,
    so the order locks are taken in stays the same.
    """
    with transaction.atomic():
        found = find()
        if found is None:
            raise Http404
        obj = _remember(found)
        token = _held.set(obj)
        try:
            yield obj
        finally:
            _held.reset(token)


@contextmanager
def acting_on(model: type[M], pk: int, user, find: Callable[[], M]) -> Iterator[M]:
    """The object a person's action (an API endpoint, a page's button) acts on, as they
    may see it (404 otherwise).

    An application is read locked, in the transaction its service then joins
    (`holding`): one read, not one here and another under the service's lock. Any other
    target is read by `find`: its service locks its application first, then it.
    """
    from licensing.models import Application
    from licensing.selectors import application_locked_for

    if model is not Application:
        yield find()
        return
    with holding(lambda: application_locked_for(user, pk)) as application:
        yield application


@contextmanager
def locked(model: type[M], pk: int, *, related: tuple[str, ...] = ()) -> Iterator[M]:
    """The row `pk`, locked until the transaction ends, inside a transaction: the caller's
    if it holds the row already (`holding`), a new one otherwise. `related`: the rows
    read with it (not locked)."""
    held = _held.get()
    if type(held) is model and held.pk == pk and transaction.get_connection().in_atomic_block:
        yield held
        return
    with transaction.atomic():
        yield lock(model, pk, related=related)


@contextmanager
def transition_guard(obj: models.Model, action: str):
    """Turn django-fsm's refusals into a conflict that names the current state."""
    try:
        yield
    except TransitionNotAllowed:
        raise TransitionConflict(
            f"Cannot {action.replace('_', ' ')} while the {obj._meta.verbose_name} is "
            f"{obj.get_status_display().lower()}.",
            current_state=obj.status,
        ) from None
    except ConcurrentTransition:
        obj.refresh_from_db(fields=["status"])
        raise TransitionConflict(
            f"The {obj._meta.verbose_name} changed while you were acting; reload and try again.",
            current_state=obj.status,
        ) from None


def run_transition(obj: M, action: str, method: Callable[[], object]) -> str:
    """Apply a transition and save; return the state it came from.

    A row read under its lock is written with one `UPDATE` of the columns changed since
    (`_write_changes`); any other object is saved whole by django-fsm's concurrent save.
    """
    from_state = obj.status
    with transition_guard(obj, action):
        method()
        changed = _changed_fields(obj)
        if changed is None:
            obj.save()
        else:
            _write_changes(obj, changed, from_state)
            _remember(obj)
    return from_state


def _write_changes(obj: models.Model, names: list[str], from_state: str) -> None:
    """`UPDATE ... SET <changed> WHERE id = %s AND status = <from_state>`, its SQL written
    once per model and set of columns: the row is locked, so this is what
    `save(update_fields=...)` would send, without building the query each time (that
    cost more than PostgreSQL's work). The state condition is django-fsm's concurrent
    check, kept; `auto_now` stamps are set as `save()` sets them. Model save signals are
    not sent: no receiver listens for the models with transitions (`test_common`)."""
    fields = [obj._meta.get_field(name) for name in names]
    sql = _update_sql(type(obj), tuple(names), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, obj.pk, from_state])
        updated = cursor.rowcount
    if updated != 1:
        raise ConcurrentTransition("the state changed since the row was read")
    obj._update_initial_state()  # django-fsm's record of the state as saved


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...], vendor: str) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    state = quote(meta.get_field("status").column)
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names only
        f"WHERE {quote(meta.pk.column)} = %s AND {state} = %s"
    )


def next_number(prefix: str, year: int) -> str:
    """`PREFIX-YEAR-000123`: sequential per year, never reused, safe under concurrency.

    One statement: the increment takes the year's counter row lock and returns
    the number, and the lock is all that orders two exporters' drafts (callers
    take it last, just before their inserts, and commit right after). The first
    number of a year creates the row.
    """
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE prefix = %s AND year = %s "  # noqa: S608
            "RETURNING last",
            [prefix, year],
        )
        row = cursor.fetchone()
    if row is None:
        ReferenceCounter.objects.bulk_create(
            [ReferenceCounter(prefix=prefix, year=year)], ignore_conflicts=True
        )
        return next_number(prefix, year)
    return f"{prefix}-{year}-{row[0]:06d}"
