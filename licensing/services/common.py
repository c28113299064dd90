"""What every service shares: locking, running a transition, reference numbers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from django.db import models
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from licensing.exceptions import TransitionConflict
from licensing.models import ReferenceCounter

M = TypeVar("M", bound=models.Model)


def lock(model: type[M], pk: int) -> M:
    """Re-read the row under a lock (PostgreSQL `SELECT ... FOR UPDATE`)."""
    return model.objects.select_for_update().get(pk=pk)


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
    """Apply a transition and save; return the state it came from."""
    from_state = obj.status
    with transition_guard(obj, action):
        method()
        obj.save()
    return from_state


def next_number(prefix: str, year: int) -> str:
    """`PREFIX-YEAR-000123`: sequential per year, never reused, safe under concurrency."""
    ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
    counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:06d}"
