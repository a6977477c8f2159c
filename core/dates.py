"""Dates written out in words, the one way pages, emails, alerts and commands do it."""

from __future__ import annotations

import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _


def long_date(value: datetime.date, *, with_weekday: bool = False) -> str:
    """ "1er décembre 2026", "mercredi 25 novembre 2026" (in the active language).

    Django's formats have no ordinal; French writes the first of the month "1er".
    """
    day = _("1st") if value.day == 1 else str(value.day)
    text = f"{day}\u00a0{formats.date_format(value, 'F Y')}"
    if with_weekday:
        text = f"{formats.date_format(value, 'l')} {text}"
    return text


def long_datetime(value: datetime.datetime) -> str:
    """ "1er décembre 2026 à 06:00" in the current time zone."""
    local = timezone.localtime(value)
    return _("%(date)s at %(time)s") % {
        "date": long_date(local.date()),
        "time": formats.time_format(local, "H:i"),
    }
