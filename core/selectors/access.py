"""Who may see a project: its chef de projet and its current members."""

from __future__ import annotations

import datetime

from django.db.models import Q

from core.models import Projet, Tache, User


def active_membership(*, today: datetime.date) -> Q:
    """Memberships that give access on ``today`` (joined, not yet left)."""
    return Q(date_debut__lte=today) & (Q(date_fin__isnull=True) | Q(date_fin__gte=today))


def can_edit_task(*, user: User, projet: Projet) -> bool:
    """Every field of a project's tasks: its chef de projet only."""
    return projet.chef_de_projet_id == user.pk


def can_update_progress(*, user: User, tache: Tache) -> bool:
    """Status, progress, comment: the task's responsable, and the chef de projet."""
    return user.pk in (tache.responsable_id, tache.projet.chef_de_projet_id)
