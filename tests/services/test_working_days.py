"""The working-day calendar: weekends, French public holidays, Alsace-Moselle's
two extra days and the DSI's closure days, at their boundaries."""

from __future__ import annotations

import datetime

import pytest

from core.models import JourNonOuvre, NotificationDefaults
from core.working_days import is_working_day, working_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

D = datetime.date


def defaults(calendrier: str) -> NotificationDefaults:
    row = NotificationDefaults(calendrier=calendrier)
    row.save()
    return row


@pytest.mark.parametrize(
    ("day", "worked"),
    [
        (D(2027, 3, 26), True),  # Friday before Easter (Good Friday: worked outside Alsace)
        (D(2027, 3, 27), False),  # Saturday
        (D(2027, 3, 28), False),  # Easter Sunday
        (D(2027, 3, 29), False),  # Easter Monday
        (D(2027, 3, 30), True),  # Tuesday
        (D(2027, 5, 6), False),  # Ascension Thursday
        (D(2027, 5, 17), False),  # Whit Monday
        (D(2027, 7, 14), False),  # Bastille Day, a Wednesday
        (D(2027, 12, 24), True),  # Christmas Eve, a Friday
        (D(2027, 12, 27), True),  # Monday after Christmas (Saturday): no "in lieu" day in France
    ],
)
def test_french_calendar(day: datetime.date, worked: bool) -> None:
    assert is_working_day(day) is worked


def test_alsace_moselle_adds_good_friday_and_saint_stephen() -> None:
    cal = working_calendar(D(2027, 1, 1), D(2028, 12, 31), defaults=defaults("alsace-moselle"))
    assert not cal.is_working(D(2027, 3, 26))  # Good Friday
    assert not cal.is_working(D(2028, 12, 26))  # Saint Stephen's day, a Tuesday
    assert cal.is_working(D(2027, 3, 30))


def test_closure_days_added_by_an_administrator() -> None:
    JourNonOuvre.objects.create(date=D(2027, 5, 7), libelle="Pont de l'Ascension")
    cal = working_calendar(D(2027, 5, 1), D(2027, 5, 31))
    assert not cal.is_working(D(2027, 5, 7))
    # Ascension Thursday, the bridge Friday and the weekend: the Monday's previous
    # working day is the Wednesday.
    assert cal.previous_working(D(2027, 5, 9)) == D(2027, 5, 5)
    assert cal.next_working(D(2027, 5, 6)) == D(2027, 5, 10)


def test_calendar_switched_off_works_every_day() -> None:
    cal = working_calendar(D(2027, 12, 20), D(2027, 12, 31), defaults=defaults("aucun"))
    assert cal.is_working(D(2027, 12, 25))
    assert cal.working_days_between(D(2027, 12, 24), D(2027, 12, 27)) == 3


def test_working_days_between_counts_only_worked_days() -> None:
    cal = working_calendar(D(2027, 3, 1), D(2027, 4, 30))
    # Due on Friday 26 March: Monday 29 is Easter Monday, so on Tuesday 30 the task
    # is one working day late, four calendar days.
    assert cal.working_days_between(D(2027, 3, 26), D(2027, 3, 30)) == 1
    assert cal.working_days_between(D(2027, 3, 30), D(2027, 3, 26)) == -1
    assert cal.working_days_between(D(2027, 3, 30), D(2027, 3, 30)) == 0


def test_asking_outside_the_span_is_an_error_not_a_guess() -> None:
    cal = working_calendar(D(2027, 3, 1), D(2027, 3, 31))
    with pytest.raises(ValueError, match="outside"):
        cal.is_working(D(2027, 8, 1))
