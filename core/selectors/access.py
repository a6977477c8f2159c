"""Who may see a project: its chef de projet and its current members."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.models import MembreProjet, Projet, Tache, User


def active_membership(*, today: datetime.date) -> Q:
    """Memberships that give access on ``today`` (joined, not yet left)."""
    return Q(date_debut__lte=today) & (Q(date_fin__isnull=True) | Q(date_fin__gte=today))


def member_exists(*, user_ref: OuterRef, project_ref: OuterRef, today: datetime.date) -> Exists:
    """An ``EXISTS`` subquery: the referenced user is a current member of the project."""
    memberships: QuerySet[MembreProjet] = MembreProjet.objects.filter(
        active_membership(today=today), utilisateur=user_ref, projet=project_ref
    )
    return Exists(memberships)


def can_edit_task(*, user: User, projet: Projet) -> bool:
    """Every field of a project's tasks: its chef de projet only."""
    return projet.chef_de_projet_id == user.pk


def can_update_progress(*, user: User, tache: Tache) -> bool:
    """Status, progress, comment: the task's responsable, and the chef de projet."""
    return user.pk in (tache.responsable_id, tache.projet.chef_de_projet_id)
