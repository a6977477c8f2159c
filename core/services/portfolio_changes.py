"""What the portfolio import writes and shows: the counts, the preview's lines, one
chunk's inserts and updates, and how a value is kept in a history and shown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats

from core.models import Etape, HistoriqueProjet, HistoriqueTache, MembreProjet, Projet, Tache
from core.services import portfolio_figures
from core.services.projects import PHASE_FIELDS
from core.services.task_updates import SNOOZE_FIELDS, Tracked

# What an import may change on a stored task (with ``date_modification``): each
# chunk's single UPDATE sets only those its tasks changed (Django's bulk_update
# builds one CASE per field and object, the cost of a large update).
TASK_FIELDS = (
    "responsable",
    "date_echeance",
    "statut",
    "priorite",
    "description",
    "avancement",
    "date_fin_reelle",
    *SNOOZE_FIELDS,
)
_ATTNAMES = {"responsable": "responsable_id", "report_par": "report_par_id"}
PROJECT_FIELDS = ["nom", "chef_de_projet", "date_debut", "date_fin_prevue", "date_modification"]


@dataclass
class Counts:
    projects_created: int = 0
    projects_updated: int = 0
    phases_created: int = 0
    phases_updated: int = 0
    tasks_created: int = 0
    tasks_updated: int = 0
    members_added: int = 0

    @property
    def changed(self) -> int:
        return sum(vars(self).values())


@dataclass
class FieldChange:
    """One field, old → new, as shown (``users``: ids named after the run)."""

    label: str
    old: Any
    new: Any
    users: bool = False


@dataclass
class Change:
    """A line of the preview: what one row creates or changes."""

    line: int
    kind: str  # "project", "phase", "task", "member"
    created: bool
    name: str
    code: str
    fields: list[FieldChange] = field(default_factory=list)

    def user_ids(self) -> set[int]:
        return {v for f in self.fields if f.users for v in (f.old, f.new) if v is not None}

    def name_users(self, names: dict[int, str]) -> None:
        for change in self.fields:
            if change.users:
                change.old = names.get(change.old, "—") if change.old else "—"
                change.new = names.get(change.new, "—") if change.new else "—"


@dataclass
class Writes:
    """What one chunk writes, in this order (a task needs its project's id...)."""

    new_projects: list[Projet] = field(default_factory=list)
    changed_projects: list[Projet] = field(default_factory=list)
    new_phases: list[Etape] = field(default_factory=list)
    changed_phases: list[Etape] = field(default_factory=list)
    new_tasks: list[Tache] = field(default_factory=list)
    changed_tasks: list[Tache] = field(default_factory=list)
    task_fields: set[str] = field(default_factory=set)
    task_history: list[HistoriqueTache] = field(default_factory=list)
    new_members: list[MembreProjet] = field(default_factory=list)
    changed_members: list[MembreProjet] = field(default_factory=list)
    project_history: list[HistoriqueProjet] = field(default_factory=list)

    def save(self, *, today: datetime.date) -> None:
        Projet.objects.bulk_create(self.new_projects)
        Projet.objects.bulk_update(self.changed_projects, PROJECT_FIELDS)
        Etape.objects.bulk_create(self.new_phases)
        Etape.objects.bulk_update(self.changed_phases, ["date_debut_prevue", "date_fin_prevue"])
        Tache.objects.bulk_create(self.new_tasks)
        if self.changed_tasks:
            fields = sorted(self.task_fields)
            Tache.objects.bulk_update(self.changed_tasks, [*fields, "date_modification"])
        HistoriqueTache.objects.bulk_create(self.task_history)
        MembreProjet.objects.bulk_create(self.new_members)
        MembreProjet.objects.bulk_update(self.changed_members, ["date_debut", "date_fin"])
        HistoriqueProjet.objects.bulk_create(self.project_history)
        touched = [tache.projet_id for tache in (*self.new_tasks, *self.changed_tasks)]
        portfolio_figures.refresh_projects(touched, today=today)


def iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


# As the project's own history keeps them (core.services.projects on main: the
# fields a project and a phase start with, one row each when not empty).
PROJECT_CREATION_FIELDS = (
    "code",
    "nom",
    "chef_de_projet_id",
    "statut",
    "date_debut",
    "date_fin_prevue",
)
PHASE_CREATION_FIELDS = PHASE_FIELDS


def shown(value: datetime.date | str | None) -> str:
    return date_text(value) if isinstance(value, datetime.date) else (value or "—")


def date_text(value: datetime.date | None) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def label(model: type[Any], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def task_values(tache: Tache) -> dict[str, Any]:
    """The values of ``TASK_FIELDS`` (ids for the users)."""
    return {name: getattr(tache, _ATTNAMES.get(name, name)) for name in TASK_FIELDS}


def task_fields(tache: Tache, before: Tracked, old: dict[str, Any]) -> list[FieldChange]:
    fields = []
    if tache.statut != before.statut:
        fields.append(
            FieldChange(
                label(Tache, "statut"),
                Tache.Statut(before.statut).label,
                Tache.Statut(tache.statut).label,
            )
        )
    if tache.date_echeance != before.date_echeance:
        fields.append(
            FieldChange(
                label(Tache, "date_echeance"),
                date_text(before.date_echeance),
                date_text(tache.date_echeance),
            )
        )
    if tache.responsable_id != before.responsable_id:
        fields.append(
            FieldChange(
                label(Tache, "responsable"), before.responsable_id, tache.responsable_id, True
            )
        )
    if tache.priorite != old["priorite"]:
        fields.append(
            FieldChange(
                label(Tache, "priorite"),
                Tache.Priorite(old["priorite"]).label,
                Tache.Priorite(tache.priorite).label,
            )
        )
    if tache.description != old["description"]:
        fields.append(
            FieldChange(
                label(Tache, "description"), old["description"][:60], tache.description[:60]
            )
        )
    return fields
