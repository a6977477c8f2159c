"""What the channel tests build: a channel (its URL reaches nothing), a blockage."""

from __future__ import annotations

from typing import Any

from core.models import Canal, Tache, User
from core.services.task_events import Change, record_events

URL = "json://127.0.0.1:9/hooks/s3cr3t-T0KEN"


def canal(**owner: Any) -> Canal:
    return Canal.objects.create(nom="Équipe", url=URL, url_masquee="json://127.0.0.1:9/h…", **owner)


def block(tache: Tache, author: User, reason: str = "Serveur indisponible") -> None:
    """``author`` reports a blockage on ``tache``: the events it calls for."""
    old = tache.statut
    tache.statut = Tache.Statut.BLOQUEE
    tache.save()
    record_events(
        Change(
            tache=tache,
            author=author,
            reason=reason,
            old_statut=old,
            old_echeance=tache.date_echeance,
            old_responsable_id=tache.responsable_id,
        )
    )
