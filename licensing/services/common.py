"""What every service shares: locking, running a transition, reference numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """Keep what the row held when read under its lock: a transition then saves only the
    fields that changed since (`run_transition`)."""
    deferred = obj.get_deferred_fields()
    obj._as_locked = {
        f.attname: f.value_from_object(obj)
        for f in obj._meta.concrete_fields
        if f.attname not in deferred
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
    deferred = obj.get_deferred_fields()
    changed = []
    for f in obj._meta.concrete_fields:
        if f.primary_key or f.attname in deferred:
            continue
        value = f.value_from_object(obj)
        if (
            isinstance(f, FSMField)
            or getattr(f, "auto_now", False)
            or f.attname not in loaded
            or isinstance(value, dict | list)
            or value != loaded[f.attname]
        ):
            changed.append(f.name)
    return changed


# Set on an application while the action that read it locked runs (`holding`): the
# services it is passed to use it as read, in the transaction already open (`locked`).
HELD = "held_for_action"


@contextmanager
def holding(find: Callable[[], M | None]) -> Iterator[M]:
    """In a new transaction: the row `find` reads with `SELECT ... FOR UPDATE` (404 if it
    finds none), marked as held for the block. A service passed that instance
    (`locked(application)`) joins this transaction and uses it, with no savepoint and no
    second read.

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
        setattr(obj, HELD, True)
        try:
            yield obj
        finally:
            delattr(obj, HELD)


@contextmanager
def acting_on(model: type[M], pk: int, user, find: Callable[[], M]) -> Iterator[M]:
    """The object a person's action (an API endpoint, a page's button) acts on, as they
    may see it (404 otherwise); the caller passes it to the action's service.

    An application is read locked, in a transaction its service joins when given this
    instance (`holding`): one read, not one here and another under the service's lock.
    Any other target is read by `find`: its service locks its application first, then it.
    """
    from licensing.models import Application
    from licensing.selectors import application_locked_for

    if model is not Application:
        yield find()
        return
    with holding(lambda: application_locked_for(user, pk)) as application:
        yield application


@contextmanager
def locked(obj: M, *, related: tuple[str, ...] = ()) -> Iterator[M]:
    """`obj`'s row, locked until the transaction ends, inside a transaction: `obj` itself
    in the caller's transaction if the caller read it locked for this action (`holding`),
    else read again under a lock in a new one. `related`: the rows read with it (not
    locked; `holding`'s reader reads them too)."""
    if getattr(obj, HELD, False) and transaction.get_connection().in_atomic_block:
        yield obj
        return
    with transaction.atomic():
        yield lock(type(obj), obj.pk, related=related)


def run_transition(obj: M, action: str, method: Callable[[], object]) -> str:
    """Apply a transition and save; return the state it came from.

    The save is django-fsm's concurrent one (`ConcurrentTransitionMixin`: its `UPDATE`
    also requires the state the object was read in). A row read under its lock saves
    only the fields changed since (`save(update_fields=...)`); any other object is saved
    whole.
    """
    from_state = obj.status
    try:
        method()
    except TransitionNotAllowed:
        raise TransitionConflict(
            f"Cannot {action.replace('_', ' ')} while the {obj._meta.verbose_name} is "
            f"{obj.get_status_display().lower()}.",
            current_state=obj.status,
        ) from None
    try:
        obj.save(update_fields=_changed_fields(obj))
    except ConcurrentTransition:
        # Django has marked the transaction for rollback (a save failed in it), so the
        # state the row holds now cannot be read here: the caller reloads.
        raise TransitionConflict(
            f"The {obj._meta.verbose_name} changed while you were acting; reload and try again.",
            current_state=from_state,
        ) from None
    if hasattr(obj, "_as_locked"):
        _remember(obj)
    return from_state


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
