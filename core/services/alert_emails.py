"""Alert emails: one email per user listing their new alerts of the day.

Called by ``core.services.daily_check`` once the alerts are committed. One
transaction claims the day's un-emailed alerts (``SELECT ... FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite takes its write lock at the start of the
transaction), writes every user's outbox row in one insert and marks the alerts
(``outbound_email``) in one update per thousand: a concurrent run skips the alerts
this one holds, so no alert is ever emailed twice, and the number of queries does
not grow with the number of users.

Only alerts of ``today`` are emailed: an older alert is no longer news (the
next day brings its own, more accurate alert for a task still late or due).
Alerts of users who opted out or have no address are left untouched, not
marked: no email was written, and the admin's outbox must not pretend one was.
If such a user opts in later the same day, the next run emails them.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.models import NotificationTache, OutboundEmail, User
from core.services import outbox
from core.services.email_rendering import (
    RenderedEmail,
    object_url,
    recipient_language,
    render_email,
)

logger = logging.getLogger(__name__)

Type = NotificationTache.Type
# Most urgent first in the email.
TYPE_ORDER: dict[str, int] = {
    Type.ALERTE_RETARD.value: 0,
    Type.ALERTE_CRITIQUE.value: 1,
    Type.ALERTE_ECHEANCE.value: 2,
}


def queue_alert_emails(*, today: datetime.date | None = None) -> int:
    """Queue one outbox email per user with un-emailed alerts of ``today``."""
    today = today or timezone.localdate()
    with transaction.atomic():
        by_user = _claim_pending_alerts(today=today)
        users = User.objects.in_bulk(list(by_user))
        batches = [
            (user, alerts)
            for user_id, alerts in by_user.items()
            if _can_email(user := users[user_id])
        ]
        rows = OutboundEmail.objects.bulk_create(
            outbox.new_row(
                _render(user, alerts, today=today), recipient=user, kind=OutboundEmail.Kind.ALERTS
            )
            for user, alerts in batches
        )
        marked = []
        for row, (_user, alerts) in zip(rows, batches, strict=True):
            for alert in alerts:
                alert.outbound_email = row
                marked.append(alert)
        NotificationTache.objects.bulk_update(marked, ["outbound_email"], batch_size=1000)
    if rows:
        # One dispatch for the whole run, not one sender task per user.
        outbox.dispatch_sender(expected=len(rows))
    return len(rows)


def _claim_pending_alerts(*, today: datetime.date) -> dict[int, list[NotificationTache]]:
    """Today's un-emailed alerts by recipient, locked until the caller commits."""
    alerts = (
        NotificationTache.objects.filter(outbound_email__isnull=True, date_alerte=today)
        .select_related("tache__projet")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("destinataire_id", "id")
    )
    by_user: dict[int, list[NotificationTache]] = defaultdict(list)
    for alert in alerts:
        by_user[alert.destinataire_id].append(alert)
    return by_user


def _can_email(user: User) -> bool:
    if not user.is_active:
        reason = "inactive"
    elif not user.email:
        reason = "no_email"
    elif not user.wants_alert_emails:
        reason = "opted_out"
    else:
        return True
    logger.info("Alert email for %s (id %s) not queued: %s", user.username, user.id, reason)
    return False


def _render(user: User, alerts: list[NotificationTache], *, today: datetime.date) -> RenderedEmail:
    ordered = sorted(alerts, key=lambda a: (TYPE_ORDER.get(a.type_notification, 9), a.id))
    lines: list[dict[str, Any]] = [
        {
            "type": alert.type_notification,
            "type_label": Type(alert.type_notification).label,  # lazy: rendered in the language
            "titre": alert.titre,
            "message": alert.message,
            "tache": alert.tache.nom,
            "projet": alert.tache.projet.nom,
            "date_echeance": alert.date_echeance,
            "url": object_url("core:task_detail", alert.tache_id),
            "tache_id": alert.tache_id,  # the action links (templates)
        }
        for alert in ordered
    ]
    context = {
        "user": user,
        "today": today,
        "alerts": lines,
        "count": len(lines),
        "project_names": ", ".join(dict.fromkeys(a.tache.projet.nom for a in ordered)),
    }
    return render_email("alerts", context, language=recipient_language(user))
