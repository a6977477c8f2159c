"""Working days: weekends, French public holidays and the DSI's closure days.

The alert policy (core.services.deadlines) and the daily summary ask one
``WorkingCalendar`` for a span of dates: public holidays come from the
``holidays`` library (Alsace-Moselle's two extra days as an option), closure days
from ``JourNonOuvre`` in one query, and every answer is then arithmetic on a
prefix count, whatever the number of tasks. With the calendar switched off
(``NotificationDefaults.calendrier = "aucun"``) every day is a working day.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass

import holidays

from core.models import JourNonOuvre, NotificationDefaults

Calendrier = NotificationDefaults.Calendrier

# The holidays library's subdivision for each choice (None: metropolitan France).
_SUBDIVISION = {Calendrier.FRANCE: None, Calendrier.ALSACE_MOSELLE: "57"}
# Closure days are read this far around the span asked for, so that "the previous
# working day" of the span's first day is still answered from the table.
_MARGIN = datetime.timedelta(days=31)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are worked between ``start`` and ``end`` (both included, with a
    month's margin); asking outside raises ``ValueError``."""

    start: datetime.date
    end: datetime.date
    enabled: bool
    # Sorted non-working days of the span: weekends, holidays, closure days.
    closed: tuple[datetime.date, ...]

    def _check(self, day: datetime.date) -> None:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the calendar's span {self.start}..{self.end}")

    def is_working(self, day: datetime.date) -> bool:
        self._check(day)
        if not self.enabled:
            return True
        i = bisect.bisect_left(self.closed, day)
        return i == len(self.closed) or self.closed[i] != day

    def previous_working(self, day: datetime.date) -> datetime.date:
        """``day`` if it is worked, else the last working day before it."""
        while not self.is_working(day):
            day -= DAY
        return day

    def next_working(self, day: datetime.date) -> datetime.date:
        """``day`` if it is worked, else the first working day after it."""
        while not self.is_working(day):
            day += DAY
        return day

    def working_days_between(self, first: datetime.date, last: datetime.date) -> int:
        """How many working days in (first, last]; negative when last < first.
        A task due on Friday is 1 working day late on Monday."""
        if last < first:
            return -self.working_days_between(last, first)
        self._check(first)
        self._check(last)
        days = (last - first).days
        if not self.enabled:
            return days
        closed = bisect.bisect_right(self.closed, last) - bisect.bisect_right(self.closed, first)
        return days - closed


def working_calendar(
    start: datetime.date, end: datetime.date, *, defaults: NotificationDefaults | None = None
) -> WorkingCalendar:
    """The calendar the administrators chose, for ``start``..``end`` (one query)."""
    defaults = defaults or NotificationDefaults.current()
    start, end = start - _MARGIN, end + _MARGIN
    if defaults.calendrier == Calendrier.AUCUN:
        return WorkingCalendar(start, end, enabled=False, closed=())
    public = holidays.country_holidays(
        "FR",
        subdiv=_SUBDIVISION[Calendrier(defaults.calendrier)],
        years=range(start.year, end.year + 1),
    )
    closed = set(
        JourNonOuvre.objects.filter(date__range=(start, end)).values_list("date", flat=True)
    )
    closed.update(day for day in public if start <= day <= end)
    day = start
    while day <= end:
        if day.weekday() >= 5:
            closed.add(day)
        day += DAY
    return WorkingCalendar(start, end, enabled=True, closed=tuple(sorted(closed)))


def is_working_day(day: datetime.date) -> bool:
    """Whether ``day`` is worked (one query): the daily summary asks it."""
    return working_calendar(day, day).is_working(day)
