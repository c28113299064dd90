"""The working-day clock: Israel's week, public holidays, closure days, and the pause."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensing.clock import WorkingCalendar
from licensing.models import NonWorkingDay

calendar = WorkingCalendar()
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=0, max_value=40)
closures = st.sets(days, max_size=20)


class TestDatedExamples:
    def test_friday_and_saturday_are_the_weekend(self):
        assert calendar.is_working_day(date(2026, 11, 1))  # Sunday
        assert calendar.is_working_day(date(2026, 11, 5))  # Thursday
        assert not calendar.is_working_day(date(2026, 11, 6))  # Friday
        assert not calendar.is_working_day(date(2026, 11, 7))  # Saturday

    def test_the_received_day_itself_does_not_count(self):
        # Received Sunday 1 November 2026; the first working day after it is Monday.
        assert calendar.due_date(date(2026, 11, 1), 1) == date(2026, 11, 2)
        # Received Thursday: the weekend is skipped.
        assert calendar.due_date(date(2026, 11, 5), 1) == date(2026, 11, 8)

    def test_rosh_hashanah_is_skipped(self):
        # Rosh Hashanah 5787 falls on Saturday 12 and Sunday 13 September 2026.
        assert not calendar.is_working_day(date(2026, 9, 13))
        # Received Thursday 10 September: Fri, Sat (weekend), Sun (holiday) do not count.
        assert calendar.due_date(date(2026, 9, 10), 3) == date(2026, 9, 16)

    def test_yom_kippur_is_skipped(self):
        # Yom Kippur is Monday 21 September 2026.
        assert not calendar.is_working_day(date(2026, 9, 21))
        assert calendar.due_date(date(2026, 9, 20), 1) == date(2026, 9, 22)

    def test_passover_first_and_seventh_days_are_skipped(self):
        # Pesach: Thursday 2 April and Wednesday 8 April 2026.
        assert calendar.due_date(date(2026, 4, 1), 1) == date(2026, 4, 5)
        # Wed 1 Apr + 5: Sun 5, Mon 6, Tue 7, (Wed 8 holiday), Thu 9, (weekend), Sun 12.
        assert calendar.due_date(date(2026, 4, 1), 5) == date(2026, 4, 12)

    def test_the_seeded_foreign_deadline_over_the_high_holidays(self):
        # A Foreign review received Wednesday 16 September 2026 has 5 working days:
        # Thu 17, Sun 20, (Mon 21 Yom Kippur), Tue 22, Wed 23, Thu 24.
        assert calendar.due_date(date(2026, 9, 16), 5) == date(2026, 9, 24)

    @pytest.mark.django_db
    def test_an_administrators_closure_day_is_skipped(self):
        NonWorkingDay.objects.create(date=date(2026, 11, 2), reason="General strike")
        loaded = WorkingCalendar.load()
        assert not loaded.is_working_day(date(2026, 11, 2))
        assert loaded.due_date(date(2026, 11, 1), 1) == date(2026, 11, 3)

    def test_the_pause_moves_the_due_date_by_the_working_days_stopped(self):
        # Due Sunday 8 November; stopped Sunday 1, resumed Thursday 5: four working days.
        assert calendar.working_days_between(date(2026, 11, 1), date(2026, 11, 5)) == 4
        assert calendar.resume(date(2026, 11, 8), date(2026, 11, 1), date(2026, 11, 5)) == date(
            2026, 11, 12
        )

    def test_a_pause_over_a_weekend_only_moves_nothing(self):
        friday, saturday = date(2026, 11, 6), date(2026, 11, 7)
        due = date(2026, 11, 10)
        assert calendar.resume(due, friday, saturday) == due
        # Stopped Thursday and answered on Saturday: no working day passed either.
        assert calendar.resume(due, date(2026, 11, 5), saturday) == due


class TestProperties:
    @given(start=days, n=counts, extra=closures)
    def test_the_due_date_is_the_nth_working_day_after_the_start(self, start, n, extra):
        cal = WorkingCalendar(extra)
        due = cal.add_working_days(start, n)
        assert cal.working_days_between(start, due) == n
        if n:
            assert due > start
            assert cal.is_working_day(due)
            assert cal.working_days_between(start, due - timedelta(days=1)) == n - 1
        else:
            assert due == start

    @given(start=days, a=counts, b=counts)
    def test_adding_in_two_steps_equals_adding_at_once(self, start, a, b):
        assert calendar.add_working_days(calendar.add_working_days(start, a), b) == (
            calendar.add_working_days(start, a + b)
        )

    @given(first=days, second=days, n=counts)
    def test_a_later_start_never_gives_an_earlier_due_date(self, first, second, n):
        early, late = sorted([first, second])
        assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)

    @given(start=days, n=counts)
    def test_subtracting_undoes_adding(self, start, n):
        due = calendar.add_working_days(start, n)
        back = calendar.subtract_working_days(due, n)
        assert back <= start
        assert calendar.working_days_between(back, start) == 0

    @given(received=days, n=st.integers(1, 30), stop_after=st.integers(0, 40), pause=counts)
    def test_a_stopped_clock_gives_back_exactly_the_working_days_it_stood(
        self, received, n, stop_after, pause
    ):
        due = calendar.add_working_days(received, n)
        stopped = received + timedelta(days=stop_after)
        resumed = stopped + timedelta(days=pause)
        new_due = calendar.resume(due, stopped, resumed)
        stood = calendar.working_days_between(stopped, resumed)
        assert calendar.working_days_between(due, new_due) == stood
        assert new_due >= due
        # Working days the reviewer actually had: the allowance plus the pause, never less.
        assert calendar.working_days_between(received, new_due) == n + stood
