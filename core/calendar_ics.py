"""A calendar feed's items as an iCalendar document (RFC 5545, with the refresh
hints of RFC 7986), built with the ``icalendar`` library: our code maps the domain
onto it, the library writes the format (escaping, folding, value types).

Every event is an all-day one (DATE values, no time zone to get wrong in Outlook,
Thunderbird or Google Calendar), transparent (a due date does not make its owner
busy), with a UID that stays the same from one refresh to the next.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import icalendar
from django.utils import formats
from django.utils.translation import gettext as _

from core.models import Etape, Tache, User
from core.paths import path_to
from core.selectors.calendar_feeds import FeedItems
from core.site_url import site_url

PRODID = "-//SI-Gouvernance//Calendrier des échéances//FR"
# How often a client should read the feed again.
REFRESH = datetime.timedelta(hours=1)
ONE_DAY = datetime.timedelta(days=1)


def feed_document(*, user: User, items: FeedItems, now: datetime.datetime) -> bytes:
    site = site_url()
    host = urlsplit(site).hostname or "localhost"
    calendar = icalendar.Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        calscale="GREGORIAN",
        name=_("SI-Gouvernance – due dates of %(name)s") % {"name": str(user)},
        uid=f"calendrier-{user.pk}@{host}",
    )
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", REFRESH)
    for tache in items.taches:
        calendar.add_component(_task_event(tache, site=site, host=host, now=now))
    for etape in items.etapes:
        calendar.add_component(_phase_event(etape, site=site, host=host, now=now))
    return calendar.to_ical()


def _task_event(tache: Tache, *, site: str, host: str, now: datetime.datetime) -> icalendar.Event:
    assert tache.date_echeance is not None  # the selector keeps dated tasks only
    link = site + path_to("core:task_detail", tache.pk)
    owner = str(tache.responsable) if tache.responsable else _("nobody")
    details = _(
        "Task “%(task)s” of the project “%(project)s”, due on %(date)s.\n"
        "Owner: %(owner)s. Status: %(status)s."
    ) % {
        "task": tache.nom,
        "project": tache.projet.nom,
        "date": _date(tache.date_echeance),
        "owner": owner,
        "status": tache.get_statut_display(),
    }
    return _all_day(
        uid=f"tache-{tache.pk}@{host}",
        day=tache.date_echeance,
        summary=_("Due: %(task)s (%(project)s)") % {"task": tache.nom, "project": tache.projet.nom},
        description=f"{details}\n{link}",
        link=link,
        now=now,
        last_modified=tache.date_modification,
    )


def _phase_event(etape: Etape, *, site: str, host: str, now: datetime.datetime) -> icalendar.Event:
    assert etape.date_fin_prevue is not None  # the selector keeps dated phases only
    link = site + path_to("core:project_detail", etape.projet_id)
    details = _(
        "Planned end of the phase “%(phase)s” of the project “%(project)s”, on %(date)s."
    ) % {
        "phase": etape.nom,
        "project": etape.projet.nom,
        "date": _date(etape.date_fin_prevue),
    }
    return _all_day(
        uid=f"etape-{etape.pk}@{host}",
        day=etape.date_fin_prevue,
        summary=_("End of phase: %(phase)s (%(project)s)")
        % {"phase": etape.nom, "project": etape.projet.nom},
        description=f"{details}\n{link}",
        link=link,
        now=now,
        last_modified=None,
    )


def _all_day(
    *,
    uid: str,
    day: datetime.date,
    summary: str,
    description: str,
    link: str,
    now: datetime.datetime,
    last_modified: datetime.datetime | None,
) -> icalendar.Event:
    event = icalendar.Event.new(
        uid=uid,
        start=day,
        end=day + ONE_DAY,
        summary=summary,
        description=description,
        url=link,
        stamp=now.astimezone(datetime.UTC),
        transparency=icalendar.TRANSP.TRANSPARENT,
    )
    if last_modified is not None:
        event.last_modified = last_modified.astimezone(datetime.UTC)
    return event


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")
