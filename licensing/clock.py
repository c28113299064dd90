"""The working-day clock: Israel's Sunday-Thursday week, public holidays, closure days.

A review received on day D with N working days is due on the N-th working day
after D (D itself does not count). Every date here is a local date in
Asia/Jerusalem.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone

FRIDAY, SATURDAY = 4, 5
WEEKEND = frozenset({FRIDAY, SATURDAY})


def local_today() -> date:
    """Today's date in the project's time zone (Asia/Jerusalem)."""
    return timezone.localdate()


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Israel(years=year).keys())


def public_holiday_name(day: date) -> str:
    """The name of the Israeli public holiday on `day`, or ""."""
    return holidays.Israel(years=day.year).get(day, "") if day in _public_holidays(day.year) else ""


class WorkingCalendar:
    """Working days, given the administrator's closure days.

    Build one per operation (`WorkingCalendar.load()`), so closure days are
    read from the database once, not once per day counted.
    """

    def __init__(self, closures: Iterable[date] = ()) -> None:
        self.closures = frozenset(closures)

    @classmethod
    def load(cls) -> WorkingCalendar:
        from licensing.models import NonWorkingDay
        from licensing.reference_cache import cached

        return cls(
            cached("closures", lambda: list(NonWorkingDay.objects.values_list("date", flat=True)))
        )

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() not in WEEKEND
            and day not in _public_holidays(day.year)
            and day not in self.closures
        )

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start`; `start` itself does not count."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def subtract_working_days(self, end: date, days: int) -> date:
        """The working day `days` working days before `end`, or `end` itself for 0."""
        day = end
        remaining = days
        while remaining:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end: how far the clock would have run."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def due_date(self, received_on: date, working_days: int) -> date:
        return self.add_working_days(received_on, working_days)

    def resume(self, due: date, stopped_on: date, resumed_on: date) -> date:
        """Move a due date later by the working days that passed while the clock stood still."""
        return self.add_working_days(due, self.working_days_between(stopped_on, resumed_on))


def latest_due_date_for_step(today: date, days_after_due: int, calendar: WorkingCalendar) -> date:
    """The latest due date d for which step (k, action) is due today: today > d + k working days.

    d + k working days < today  <=>  at least k working days lie in (d, yesterday],
    so walk back from yesterday over k working days.
    """
    day = today - timedelta(days=1)
    counted = 0
    while counted < days_after_due:
        if calendar.is_working_day(day):
            counted += 1
        day -= timedelta(days=1)
    return day
