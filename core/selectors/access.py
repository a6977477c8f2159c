"""Who may see a project: its chef de projet and its current members, and the DSI
(``core.view_portfolio``), who reads every project and task without acting on them."""

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


# Who may change a project in the admin (``ProjetAdmin``): superusers, and the
# administrators given this permission.
CHANGE_PROJECT = "core.change_projet"


# Who may create a project (the "Chefs de projet" group has it, migration 0014).
ADD_PROJECT = "core.add_projet"


def can_create_project(user: User) -> bool:
    """Creating a project in the application: staff, and who holds ``core.add_projet``."""
    return user.is_active and (user.is_staff or user.has_perm(ADD_PROJECT))


def can_manage_project(*, user: User, projet: Projet) -> bool:
    """The project itself, its phases, its members and its hand-over: its chef de
    projet, and who may change the project in the admin."""
    return projet.chef_de_projet_id == user.pk or user.has_perm(CHANGE_PROJECT)


def can_set_alert_policy(*, user: User, projet: Projet) -> bool:
    """A project's alert policy: its chef de projet, and who may change the project
    in the admin."""
    return projet.chef_de_projet_id == user.pk or user.has_perm(CHANGE_PROJECT)


def can_update_progress(*, user: User, tache: Tache) -> bool:
    """Status, progress, comment: the task's responsable, and the chef de projet."""
    return user.pk in (tache.responsable_id, tache.projet.chef_de_projet_id)


# The DSI's permission: the portfolio, and every project and task page, read only.
READ_EVERYTHING = "core.view_portfolio"


def reads_everything(user: User) -> bool:
    """Whether ``user`` reads every project and task (the DSI, superusers). Reading
    only: the rights to act stay the lead's and the owner's (``can_edit_task``,
    ``can_update_progress``)."""
    return user.has_perm(READ_EVERYTHING)
