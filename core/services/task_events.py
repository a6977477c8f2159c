"""Event notifications: what someone changed on a task, told to whom it concerns.

Beside the deadline alerts, in the same notification centre, written in the
same transaction as the change (``core.services.task_updates``):

- a blockage reported: to the project lead, with the reason;
- a blockage lifted: to the owner;
- a task assigned (created for someone, or handed over): to the new owner;
- a due date changed: to the owner and the lead (old → new, with the reason);
- a task re-opened: to the owner and the lead.

Never to the author of the change, nor to an inactive account, nor for a type
the recipient switched off (``User.muted_events``). Events carry no alert day
(``date_alerte`` is NULL): the morning's alert email never takes them; they are
emailed in batches by ``alert_emails.queue_event_emails`` (every few minutes).
Texts are written in the site's language, as the deadline alerts are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from core.models import NotificationTache, Projet, Tache, User
from core.services.alert_lock import event_writes

Type = NotificationTache.Type
Statut = Tache.Statut
CLOSED = (Statut.TERMINEE, Statut.ANNULEE)
TITLE_MAX = 255
# Per type, its title and sentence: the task, the project, the author, the reason,
# the old and new due dates are filled in.
TEXTS: dict[str, tuple[Any, Any]] = {
    Type.BLOCAGE: (
        gettext_lazy("Blocked: %(tache)s"),
        gettext_lazy(
            '%(auteur)s reports a blockage on "%(tache)s" (project "%(projet)s"): %(motif)s'
        ),
    ),
    Type.DEBLOCAGE: (
        gettext_lazy("Blockage lifted: %(tache)s"),
        gettext_lazy('%(auteur)s lifted the blockage of "%(tache)s" (project "%(projet)s").'),
    ),
    Type.ASSIGNATION: (
        gettext_lazy("Assigned to you: %(tache)s"),
        gettext_lazy(
            '%(auteur)s gave you the task "%(tache)s" (project "%(projet)s"), due: %(nouvelle)s.'
        ),
    ),
    Type.ECHEANCE_MODIFIEE: (
        gettext_lazy("Due date changed: %(tache)s"),
        gettext_lazy(
            '%(auteur)s changed the due date of "%(tache)s" (project "%(projet)s"): '
            "%(ancienne)s → %(nouvelle)s."
        ),
    ),
    Type.REOUVERTURE: (
        gettext_lazy("Re-opened: %(tache)s"),
        gettext_lazy('%(auteur)s re-opened "%(tache)s" (project "%(projet)s").'),
    ),
}


@dataclass(frozen=True)
class Change:
    """A write to a task: its state before (``created``: there was none) and after."""

    tache: Tache
    author: User
    reason: str = ""
    created: bool = False
    old_statut: str = ""
    old_echeance: datetime.date | None = None
    old_responsable_id: int | None = None


def record_events(change: Change) -> list[NotificationTache]:
    """Create the notifications ``change`` calls for; the created rows."""
    projet = Projet.objects.only("nom", "chef_de_projet_id").get(pk=change.tache.projet_id)
    wanted = [
        (kind, user_id)
        for kind, user_id in _events(change, lead_id=projet.chef_de_projet_id)
        if user_id is not None and user_id != change.author.pk
    ]
    if not wanted:
        return []
    users = {
        user.pk: user
        for user in User.objects.filter(
            pk__in={user_id for _, user_id in wanted}, is_active=True
        ).only("id", "muted_events")
    }
    with override(settings.LANGUAGE_CODE):
        rows = [
            NotificationTache(
                destinataire_id=user_id,
                tache=change.tache,
                type_notification=kind,
                date_echeance=change.tache.date_echeance,
                **_texts(kind, change, projet=projet),
            )
            for kind, user_id in dict.fromkeys(wanted)
            if user_id in users and users[user_id].wants_event(kind)
        ]
    with transaction.atomic(), event_writes():  # held until the change commits
        return NotificationTache.objects.bulk_create(rows)


def _events(change: Change, *, lead_id: int) -> list[tuple[str, int | None]]:
    """(type, recipient) of every event in ``change``, the author included."""
    tache = change.tache
    owner, statut = tache.responsable_id, tache.statut
    if change.created:
        return [(Type.ASSIGNATION, owner)]
    events: list[tuple[str, int | None]] = []
    if owner != change.old_responsable_id:
        events.append((Type.ASSIGNATION, owner))
    if statut != change.old_statut:
        if statut == Statut.BLOQUEE:
            events.append((Type.BLOCAGE, lead_id))
        elif change.old_statut == Statut.BLOQUEE and statut not in CLOSED:
            events.append((Type.DEBLOCAGE, owner))
        elif change.old_statut in CLOSED and statut in Tache.OPEN_STATUTS:
            events += [(Type.REOUVERTURE, owner), (Type.REOUVERTURE, lead_id)]
    if tache.date_echeance != change.old_echeance:
        events += [(Type.ECHEANCE_MODIFIEE, owner), (Type.ECHEANCE_MODIFIEE, lead_id)]
    return events


def _date(value: datetime.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else _("no due date")


def _texts(kind: str, change: Change, *, projet: Projet) -> dict[str, str]:
    """Title and sentence of an event, in the active language."""
    tache = change.tache
    values = {
        "tache": tache.nom,
        "projet": projet.nom,
        "auteur": str(change.author),
        "motif": change.reason.strip(),
        "ancienne": _date(change.old_echeance),
        "nouvelle": _date(tache.date_echeance),
    }
    titre, message = TEXTS[kind]
    text = str(message) % values
    if values["motif"] and kind != Type.BLOCAGE:
        text += " " + _("Reason: %(motif)s") % values
    return {"titre": (str(titre) % values)[:TITLE_MAX], "message": text}
