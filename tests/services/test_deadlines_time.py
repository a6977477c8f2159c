""" "Today" is the business day in Europe/Paris, never the UTC date."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from core.models import NotificationTache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import World
from tests.factories import TacheFactory

UTC = datetime.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("instant", "business_day"),
    [
        # 23:30 UTC on the 25th is already 00:30 on the 26th in Paris (winter, UTC+1).
        (datetime.datetime(2026, 11, 25, 23, 30, tzinfo=UTC), datetime.date(2026, 11, 26)),
        # 00:30 in Paris on the 26th: the UTC date is still the 25th.
        (datetime.datetime(2026, 11, 26, 0, 30, tzinfo=PARIS), datetime.date(2026, 11, 26)),
        # 23:59 in Paris on the 25th (22:59 UTC): still the 25th for everyone.
        (datetime.datetime(2026, 11, 25, 22, 59, tzinfo=UTC), datetime.date(2026, 11, 25)),
        # Summer time (UTC+2): 22:30 UTC on 30 June is 1 July in Paris.
        (datetime.datetime(2026, 6, 30, 22, 30, tzinfo=UTC), datetime.date(2026, 7, 1)),
    ],
    ids=["23:30-utc", "00:30-paris", "23:59-paris", "summer"],
)
def test_default_today_is_the_paris_date(
    world: World, instant: datetime.datetime, business_day: datetime.date
) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=business_day)

    with time_machine.travel(instant, tick=False):
        result = create_deadline_alerts()

    assert result.today == business_day
    assert set(NotificationTache.objects.values_list("type_notification", "date_alerte")) == {
        ("ALERTE_CRITIQUE", business_day)
    }
