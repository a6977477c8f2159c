"""Channel messages: the day's alerts and the events, written to the channels' outbox.

- **Alerts** (``queue_channel_messages``, right after the alert emails of the
  morning check): one message per project channel listing that project's new
  alerts of the day (an alert sent to both the owner and the lead counts once),
  and one per personal channel listing its owner's; at most ``LINES_LISTED``
  lines, then "and N more" with a link. The dedup key
  ``alerts:<channel>:<day>`` makes it once per channel per day: a rerun, a
  concurrent run or a catch-up posts nothing twice.
- **Events** (``queue_channel_events``, with the event emails every five
  minutes): each personal channel gets one message listing its owner's events
  since the last one it got (a watermark on the channel, moved in the same
  transaction, rows locked); the blockages reported on a project also go to
  its channels, where the team can help. An event exists only if its
  recipient wants that type (``User.muted_events``): the channels follow the
  same per-type preferences as the emails.

Set-based: channels go by chunks (one transaction each) and each chunk costs a
fixed number of queries, whatever the number of alerts or channels in it.
Texts are in the site's language; names are data, not markup (``_plain``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Max, Min, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from core.models import Canal, MessageCanal, NotificationTache
from core.models.notifications import ALERT_TYPES, EVENT_TYPES
from core.paths import path_to
from core.selectors.alert_lines import PROJECT, PROJECT_ID, ranked_lines
from core.selectors.urgency import alert_urgency_keys
from core.services.alert_lock import lock_for_event_messages
from core.services.channel_delivery import dispatch_sender
from core.site_url import site_url

Kind = MessageCanal.Kind
Type = NotificationTache.Type
# Channels per transaction.
CHUNK_SIZE = 200
# Lines in one message; the message gives the total and links to the rest.
LINES_LISTED = 10
# Events older than this are no longer news (as for the event emails).
EVENT_MAX_AGE = datetime.timedelta(hours=24)
# Events a project's channels hear of: a blockage is the team's business.
PROJECT_EVENT_TYPES = (Type.BLOCAGE,)


@dataclass(frozen=True)
class _Message:
    canal_id: int
    title: str
    lines: list[dict[str, Any]]
    total: int
    more_url: str
    # An event's line is its sentence (who did what, the reason); an alert's, its title.
    sentences: bool = False


def queue_channel_messages(
    *, today: datetime.date | None = None, chunk_size: int = CHUNK_SIZE
) -> int:
    """Queue the day's alert messages of every active channel; how many were queued."""
    today = today or timezone.localdate()
    with override(settings.LANGUAGE_CODE):
        queued = _alert_messages(today, chunk_size)
    if queued:
        dispatch_sender(expected=queued)
    return queued


def _alert_messages(today: datetime.date, chunk_size: int) -> int:
    queued = _walk(Q(projet__isnull=False), lambda chunk: _project_alerts(chunk, today), chunk_size)
    return queued + _walk(
        Q(utilisateur__isnull=False), lambda chunk: _personal_alerts(chunk, today), chunk_size
    )


def queue_channel_events(
    *, now: datetime.datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> int:
    """Queue one message per personal channel with new events of its owner, and
    per project channel with new blockages; how many were queued."""
    now = now or timezone.now()
    with override(settings.LANGUAGE_CODE):
        queued = _walk(
            Q(utilisateur__isnull=False), lambda c: _events(c, now, personal=True), chunk_size
        )
        queued += _walk(
            Q(projet__isnull=False), lambda c: _events(c, now, personal=False), chunk_size
        )
    if queued:
        dispatch_sender(expected=queued)
    return queued


def _walk(owner: Q, queue_chunk: Callable[[list[Canal]], int], chunk_size: int) -> int:
    """The active channels of ``owner``, by id, ``chunk_size`` per transaction."""
    queued, after, more = 0, 0, True
    while more:
        with transaction.atomic():
            canaux = list(
                Canal.objects.filter(owner, actif=True, id__gt=after)
                .order_by("id")
                .only("id", "projet_id", "utilisateur_id", "events_sent_up_to", "projet__nom")
                .select_related("projet")[:chunk_size]
            )
            if canaux:
                after = canaux[-1].id
                queued += queue_chunk(canaux)
            more = len(canaux) == chunk_size
    return queued


# --- The day's alerts ------------------------------------------------------------


def _project_alerts(canaux: list[Canal], today: datetime.date) -> int:
    todo = _not_queued(canaux, lambda canal: _alerts_key(canal.id, today))
    if not todo:
        return 0
    project_ids = {canal.projet_id for canal in todo}
    # One alert per subject and type: the owner's and the lead's copies are one line.
    firsts = (
        NotificationTache.objects.filter(date_alerte=today, type_notification__in=ALERT_TYPES)
        .annotate(project_key=PROJECT_ID)
        .filter(project_key__in=project_ids)
        .values("project_key", "tache_id", "etape_id", "type_notification")
        .annotate(first=Min("id"))
        .values("first")
    )
    listed, totals = _ranked(NotificationTache.objects.filter(id__in=firsts), PROJECT)
    messages = [
        _Message(
            canal.id,
            _("Deadline alerts of %(date)s: %(projet)s")
            % {"date": _long_date(today), "projet": canal.projet.nom if canal.projet else ""},
            listed[canal.projet_id],
            totals[canal.projet_id],
            _absolute(path_to("core:project_detail", canal.projet_id or 0)),
        )
        for canal in todo
        if totals.get(canal.projet_id)
    ]
    return _insert(messages, Kind.ALERTS, key=lambda canal_id: _alerts_key(canal_id, today))


def _personal_alerts(canaux: list[Canal], today: datetime.date) -> int:
    todo = _not_queued(canaux, lambda canal: _alerts_key(canal.id, today))
    if not todo:
        return 0
    mine = NotificationTache.objects.filter(
        date_alerte=today, destinataire_id__in={canal.utilisateur_id for canal in todo}
    )
    listed, totals = _ranked(mine, "destinataire_id")
    title = _("Your deadline alerts of %(date)s") % {"date": _long_date(today)}
    more_url = _absolute(reverse("core:notification_list")) + "?statut=unread"
    messages = [
        _Message(
            canal.id,
            title,
            listed[canal.utilisateur_id],
            totals[canal.utilisateur_id],
            more_url,
        )
        for canal in todo
        if totals.get(canal.utilisateur_id)
    ]
    return _insert(messages, Kind.ALERTS, key=lambda canal_id: _alerts_key(canal_id, today))


def _alerts_key(canal_id: int, today: datetime.date) -> str:
    return f"alerts:{canal_id}:{today}"


def _not_queued(canaux: list[Canal], key: Callable[[Canal], str]) -> list[Canal]:
    """The channels whose message is not written yet (a rerun renders nothing
    again; the unique key, not this read, is what makes it once)."""
    taken = set(
        MessageCanal.objects.filter(dedup_key__in=[key(c) for c in canaux]).values_list(
            "dedup_key", flat=True
        )
    )
    return [canal for canal in canaux if key(canal) not in taken]


def _ranked(
    notifications: QuerySet[NotificationTache], partition: Any
) -> tuple[dict[Any, list[dict[str, Any]]], dict[Any, int]]:
    return ranked_lines(
        notifications, partition=partition, order=alert_urgency_keys(), limit=LINES_LISTED
    )


# --- Events ------------------------------------------------------------------------

# Per kind of channel: the join from a notification to the channels that hear of it.
_EVENT_ROUTES = {
    True: ("destinataire__canaux", EVENT_TYPES),  # to one's personal channels
    False: ("tache__projet__canaux", PROJECT_EVENT_TYPES),  # to the project's channels
}


def _events(canaux: list[Canal], now: datetime.datetime, *, personal: bool) -> int:
    """Per channel, the events newer than its watermark: one query lists them all
    (a notification joined to each channel it goes to), one gives each channel
    its newest, one moves the watermarks. The channels are locked first: a
    concurrent run waits, then reads the moved watermarks."""
    ids = [canal.id for canal in canaux]
    # No event still being inserted (its id taken, not yet committed) can end up
    # below the watermarks moved here.
    lock_for_event_messages()
    if connection.vendor == "postgresql":
        list(Canal.objects.filter(id__in=ids).order_by("id").select_for_update().values("id"))
    route, types = _EVENT_ROUTES[personal]
    news = NotificationTache.objects.filter(
        **{
            f"{route}__id__in": ids,
            "id__gt": F(f"{route}__events_sent_up_to"),
            "date_alerte__isnull": True,
            "type_notification__in": sorted(types),
            "date_creation__gte": now - EVENT_MAX_AGE,
        }
    )
    listed, totals = ranked_lines(
        news, partition=f"{route}__id", order=[F("id").asc()], limit=LINES_LISTED
    )
    if not totals:
        return 0
    newest = dict(news.values_list(f"{route}__id").annotate(newest=Max("id")).order_by())
    Canal.objects.filter(id__in=list(newest)).update(
        events_sent_up_to=Case(
            *(When(id=canal_id, then=Value(last)) for canal_id, last in newest.items()),
            default=F("events_sent_up_to"),
            output_field=BigIntegerField(),
        )
    )
    messages = [
        _Message(
            canal.id,
            _event_title(canal, personal=personal),
            listed[canal.id],
            totals[canal.id],
            _absolute(reverse("core:notification_list"))
            if personal
            else _absolute(path_to("core:project_detail", canal.projet_id or 0)),
            sentences=True,
        )
        for canal in canaux
        if totals.get(canal.id)
    ]
    return _insert(
        messages, Kind.EVENTS, key=lambda canal_id: f"events:{canal_id}:{newest[canal_id]}"
    )


def _event_title(canal: Canal, *, personal: bool) -> str:
    if personal:
        return _("Changes to your tasks")
    return _("Blockages reported: %(projet)s") % {
        "projet": canal.projet.nom if canal.projet else ""
    }


# --- Writing -------------------------------------------------------------------------


def _insert(messages: list[_Message], kind: str, *, key: Callable[[int], str]) -> int:
    """Insert-or-ignore on the dedup key: a message already written by an earlier or
    a concurrent run stays as it is."""
    if not messages:
        return 0
    rows = [
        MessageCanal(
            canal_id=message.canal_id,
            kind=kind,
            title=_plain(message.title)[:255],
            body=_body(message),
            dedup_key=key(message.canal_id),
        )
        for message in messages
    ]
    MessageCanal.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _body(message: _Message) -> str:
    site = site_url()
    lines = []
    for line in message.lines:
        where = (
            f"{site}{path_to('core:task_detail', line['tache_id'])}"
            if line["tache_id"] is not None
            else f"{site}{path_to('core:project_detail', line['project_id'])}"
        )
        text = line["message"] if message.sentences else f"{line['titre']} ({line['project']})"
        lines.append(f"• {_plain(text)}\n  {where}")
    more = message.total - len(message.lines)
    if more > 0:
        lines.append(
            ngettext("And %(count)d more: %(url)s", "And %(count)d more: %(url)s", more)
            % {"count": more, "url": message.more_url}
        )
    return "\n".join(lines)


def _absolute(path: str) -> str:
    return f"{site_url()}{path}"


def _long_date(day: datetime.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


# Chat services read "@channel", "@here", "<!channel>" or "<@U123>" in a message as
# a mention that wakes a whole team: a name someone typed must not do that.
_MENTION = re.compile(r"([@<>])")
# Not every space: the no-break ones of French typography stay.
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\v\f\u2028\u2029]+[ \t]*")


def _plain(text: str) -> str:
    """Typed text as inert text in a chat message: no mention, no markup tag, one line."""
    one_line = _LINE_BREAKS.sub(" ", text).strip()
    return _MENTION.sub(lambda m: {"@": "@\u200b", "<": "‹", ">": "›"}[m.group(1)], one_line)
