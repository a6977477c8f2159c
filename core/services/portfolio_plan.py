"""The portfolio import's plan and writes, one chunk of validated rows at a time.

The file's stored projects are loaded (and locked) once; then per chunk, whatever
its size: the phases of projects not met yet (one query, only when new ones
appear), the chunk's existing tasks (one query on its
projects and task names), the memberships of its owners (one query), then bulk
inserts and updates. ``write=False`` plans the same without writing (the dry run,
the page's preview). Projects, phases and memberships are cached for the whole
file: they grow with the organisation, not with the file.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models.functions import Lower
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.models import Etape, HistoriqueProjet, HistoriqueTache, MembreProjet, Projet, Tache, User
from core.services.portfolio_checks import Checked
from core.services.portfolio_file import ImportRow
from core.services.task_updates import (
    SNOOZE_FIELDS,
    Tracked,
    clear_snooze,
    creation_row,
    sync_with_status,
    tracked_changes,
)

Action, Sujet = HistoriqueProjet.Action, HistoriqueProjet.Sujet
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
class _Writes:
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

    def save(self) -> None:
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


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def _stored(value: datetime.date | str | None) -> str:
    """A value as HistoriqueProjet keeps it: a date in ISO, text as is."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return (value or "")[:200]


def _shown(value: datetime.date | str | None) -> str:
    return _date(value) if isinstance(value, datetime.date) else (value or "—")


def _date(value: datetime.date | None) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _label(model: type[Any], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


class Plan:
    """The import's state across chunks; ``chunk`` plans (and writes) one."""

    def __init__(
        self,
        *,
        checked: Checked,
        author: User | None,
        today: datetime.date,
        reason: str,
        write: bool,
    ) -> None:
        self.checked, self.author, self.today, self.reason, self.write = (
            checked,
            author,
            today,
            reason,
            write,
        )
        self.now = timezone.now()
        self.counts = Counts()
        self.errors: list[tuple[int, str]] = []
        self.projects: dict[str, Projet] = {}
        self.new_projects: set[str] = set()
        self.met_projects: set[str] = set()
        self.key_of: dict[int, str] = {}  # project id → key
        self.phases: dict[str, dict[str, Etape]] = {}
        self.phase_names: dict[int, str] = {}
        self.next_order: dict[str, int] = {}
        self.seen_phases: set[tuple[str, str]] = set()
        self.members: set[tuple[str, int]] = set()

    def chunk(self, rows: list[ImportRow]) -> list[Change]:
        writes = _Writes()
        changes = self._projects(rows, writes)
        changes += self._phases(rows, writes)
        changes += self._tasks(rows, writes)
        changes += self._members(rows, writes)
        if self.write and not self.errors:
            writes.save()
        return changes

    def _history(self, projet: Projet, action: str, **values: Any) -> HistoriqueProjet:
        return HistoriqueProjet(
            projet=projet,
            auteur=self.author,
            date=self.now,
            action=action,
            motif=self.reason,
            **values,
        )

    # Projects -------------------------------------------------------------------

    def lock_projects(self) -> None:
        """Load (and lock, in id order) every stored project the file names, once, in
        the import's transaction: a concurrent import of the same projects waits
        for this one, then finds its tasks (two imports never deadlock)."""
        keys = list(self.checked.projects)
        query = Projet.objects.annotate(code_lower=Lower("code")).filter(code_lower__in=keys)
        query = query.order_by("pk")
        for projet in query.select_for_update() if self.write else query:
            self.projects[projet.code.lower()] = projet
            self.key_of[projet.pk] = projet.code.lower()

    def _projects(self, rows: list[ImportRow], writes: _Writes) -> list[Change]:
        changes = []
        for key in dict.fromkeys(row.project_key for row in rows):
            if key in self.met_projects:
                continue
            self.met_projects.add(key)
            if key in self.projects:
                change = self._update_project(self.projects[key], key, writes)
            else:
                change = self._create_project(key, writes)
            if change is not None:
                changes.append(change)
        return changes

    def _create_project(self, key: str, writes: _Writes) -> Change:
        info = self.checked.projects[key]
        projet = Projet(
            code=info.code,
            nom=info.nom,
            chef_de_projet_id=self.checked.user_id(info.chef),
            date_debut=info.debut,
            date_fin_prevue=info.fin,
        )
        self.projects[key] = projet
        self.new_projects.add(key)
        writes.new_projects.append(projet)
        writes.project_history.append(self._history(projet, Action.CREATION))
        self.counts.projects_created += 1
        return Change(info.line, "project", True, info.nom, info.code)

    def _update_project(self, projet: Projet, key: str, writes: _Writes) -> Change | None:
        info = self.checked.projects[key]
        change = Change(info.line, "project", False, info.nom, projet.code)
        lead = self.checked.user_id(info.chef)
        if lead != projet.chef_de_projet_id:
            writes.project_history.append(
                self._history(
                    projet,
                    Action.PASSATION,
                    champ="chef_de_projet",
                    ancienne_valeur=str(projet.chef_de_projet_id),
                    nouvelle_valeur=str(lead),
                )
            )
            change.fields.append(
                FieldChange(_label(Projet, "chef_de_projet"), projet.chef_de_projet_id, lead, True)
            )
            projet.chef_de_projet_id = lead
        for name, value in (
            ("nom", info.nom),
            ("date_debut", info.debut),
            ("date_fin_prevue", info.fin),
        ):
            old = getattr(projet, name)
            if value is None or value == old:
                continue
            writes.project_history.append(
                self._history(
                    projet,
                    Action.MODIFICATION,
                    champ=name,
                    ancienne_valeur=_stored(old),
                    nouvelle_valeur=_stored(value),
                )
            )
            change.fields.append(FieldChange(_label(Projet, name), _shown(old), _shown(value)))
            setattr(projet, name, value)
        if (
            projet.date_debut
            and projet.date_fin_prevue
            and projet.date_fin_prevue < projet.date_debut
        ):
            self.errors.append(
                (
                    info.line,
                    _("the project %(code)s would end before it starts") % {"code": projet.code},
                )
            )
        if not change.fields:
            return None
        projet.date_modification = self.now
        writes.changed_projects.append(projet)
        self.counts.projects_updated += 1
        return change

    # Phases ---------------------------------------------------------------------

    def _phases(self, rows: list[ImportRow], writes: _Writes) -> list[Change]:
        self._load_phases({row.project_key for row in rows})
        changes = []
        for row in rows:
            if not row.etape or row.phase_key in self.seen_phases:
                continue
            self.seen_phases.add(row.phase_key)
            known = self.phases[row.project_key].get(row.etape)
            if known is None:
                changes.append(self._create_phase(row, writes))
            elif change := self._update_phase(known, row, writes):
                changes.append(change)
        return changes

    def _load_phases(self, keys: set[str]) -> None:
        keys -= self.phases.keys()
        for key in keys:
            self.phases[key], self.next_order[key] = {}, 1
        stored = [self.projects[key].pk for key in keys if key not in self.new_projects]
        if not stored:
            return
        for etape in Etape.objects.filter(projet_id__in=stored).order_by("ordre"):
            key = self.key_of[etape.projet_id]
            # Two phases of one name: the first one (in order) is the one imported into.
            self.phases[key].setdefault(etape.nom, etape)
            self.phase_names[etape.pk] = etape.nom
            self.next_order[key] = max(self.next_order[key], etape.ordre + 1)

    def _create_phase(self, row: ImportRow, writes: _Writes) -> Change:
        info = self.checked.phases[row.phase_key]
        projet = self.projects[row.project_key]
        etape = Etape(
            projet=projet,
            nom=row.etape,
            ordre=self.next_order[row.project_key],
            date_debut_prevue=info.debut,
            date_fin_prevue=info.fin,
        )
        self.next_order[row.project_key] += 1
        self.phases[row.project_key][row.etape] = etape
        writes.new_phases.append(etape)
        writes.project_history.append(
            self._history(
                projet, Action.CREATION, sujet=Sujet.ETAPE, etape=etape, etape_nom=etape.nom
            )
        )
        self.counts.phases_created += 1
        return Change(info.line, "phase", True, row.etape, row.code)

    def _update_phase(self, etape: Etape, row: ImportRow, writes: _Writes) -> Change | None:
        info = self.checked.phases[row.phase_key]
        change = Change(info.line, "phase", False, row.etape, row.code)
        for name, value in (("date_debut_prevue", info.debut), ("date_fin_prevue", info.fin)):
            old = getattr(etape, name)
            if value is None or value == old:
                continue
            writes.project_history.append(
                self._history(
                    self.projects[row.project_key],
                    Action.MODIFICATION,
                    sujet=Sujet.ETAPE,
                    etape=etape,
                    etape_nom=etape.nom,
                    champ=name,
                    ancienne_valeur=_iso(old),
                    nouvelle_valeur=_iso(value),
                )
            )
            change.fields.append(FieldChange(_label(Etape, name), _date(old), _date(value)))
            setattr(etape, name, value)
        if not change.fields:
            return None
        writes.changed_phases.append(etape)
        self.counts.phases_updated += 1
        return change

    # Tasks ----------------------------------------------------------------------

    def _tasks(self, rows: list[ImportRow], writes: _Writes) -> list[Change]:
        stored = self._stored_tasks(rows)
        changes = []
        for row in rows:
            found = stored.get(row.task_key, [])
            if len(found) > 1:
                self.errors.append((row.line, _("several tasks of the project have this name")))
            elif found:
                if change := self._update_task(found[0], row, writes):
                    changes.append(change)
            else:
                changes.append(self._create_task(row, writes))
        return changes

    def _stored_tasks(self, rows: list[ImportRow]) -> dict[tuple[str, str, str], list[Tache]]:
        """The chunk's tasks already in the database, by key (one query)."""
        old = [row for row in rows if row.project_key not in self.new_projects]
        if not old:
            return {}
        query = Tache.objects.filter(
            projet_id__in={self.projects[row.project_key].pk for row in old},
            nom__in={row.tache for row in old},
        ).order_by("pk")
        found: dict[tuple[str, str, str], list[Tache]] = {}
        for tache in query.select_for_update() if self.write else query:
            phase = self.phase_names.get(tache.etape_id, "") if tache.etape_id else ""
            found.setdefault((self.key_of[tache.projet_id], phase, tache.nom), []).append(tache)
        return found

    def _create_task(self, row: ImportRow, writes: _Writes) -> Change:
        tache = Tache(
            projet=self.projects[row.project_key],
            etape=self.phases[row.project_key][row.etape] if row.etape else None,
            nom=row.tache,
            description=row.description or "",
            responsable_id=self.checked.user_id(row.responsable),
            statut=row.statut,
            priorite=row.priorite or Tache.Priorite.NORMALE,
            date_echeance=row.date_echeance,
        )
        sync_with_status(tache, today=self.today)
        writes.new_tasks.append(tache)
        history = creation_row(tache, author=self.author, reason=self.reason)
        history.date = self.now
        writes.task_history.append(history)
        self.counts.tasks_created += 1
        return Change(row.line, "task", True, row.tache, row.code)

    def _update_task(self, tache: Tache, row: ImportRow, writes: _Writes) -> Change | None:
        before = Tracked.of(tache)
        old = _task_values(tache)
        tache.responsable_id = self.checked.user_id(row.responsable)
        tache.date_echeance, tache.statut = row.date_echeance, row.statut
        tache.priorite = row.priorite or tache.priorite
        tache.description = tache.description if row.description is None else row.description
        sync_with_status(tache, today=self.today)
        if tache.responsable_id != before.responsable_id:
            clear_snooze(tache)  # the old owner's, as in task_updates.save_task
        changed = {name for name, value in _task_values(tache).items() if value != old[name]}
        if not changed:
            return None
        history = tracked_changes(tache, before=before, author=self.author, reason=self.reason)
        tache.date_modification = self.now
        writes.changed_tasks.append(tache)
        writes.task_fields |= changed
        writes.task_history += history
        self.counts.tasks_updated += 1
        return Change(
            row.line, "task", False, row.tache, row.code, _task_fields(tache, before, old)
        )

    # Members --------------------------------------------------------------------

    def _members(self, rows: list[ImportRow], writes: _Writes) -> list[Change]:
        wanted: dict[tuple[str, int], ImportRow] = {}
        for row in rows:
            user_id = self.checked.user_id(row.responsable)
            pair = (row.project_key, user_id)
            if (
                pair not in self.members
                and user_id != self.projects[row.project_key].chef_de_projet_id
            ):
                wanted.setdefault(pair, row)
        if not wanted:
            return []
        self.members |= wanted.keys()
        stored: dict[tuple[str, int], MembreProjet] = {}
        old = {self.projects[key].pk for key, _user in wanted if key not in self.new_projects}
        if old:
            query = MembreProjet.objects.filter(
                projet_id__in=old, utilisateur_id__in={user for _key, user in wanted}
            )
            stored = {(self.key_of[m.projet_id], m.utilisateur_id): m for m in query}
        changes = []
        for (key, user_id), row in wanted.items():
            if change := self._add_member(key, user_id, stored.get((key, user_id)), row, writes):
                changes.append(change)
        return changes

    def _add_member(
        self, key: str, user_id: int, adhesion: MembreProjet | None, row: ImportRow, writes: _Writes
    ) -> Change | None:
        projet = self.projects[key]
        history = self._history(projet, Action.AJOUT_MEMBRE, sujet=Sujet.MEMBRE, membre_id=user_id)
        if adhesion is None:
            writes.new_members.append(
                MembreProjet(projet=projet, utilisateur_id=user_id, date_debut=self.today)
            )
        elif adhesion.date_debut > self.today or (
            adhesion.date_fin and adhesion.date_fin < self.today
        ):
            history.champ = "date_fin"
            history.ancienne_valeur = _iso(adhesion.date_fin)
            adhesion.date_debut = min(adhesion.date_debut, self.today)
            adhesion.date_fin = None
            writes.changed_members.append(adhesion)
        else:
            return None
        writes.project_history.append(history)
        self.counts.members_added += 1
        change = Change(row.line, "member", True, row.responsable, row.code)
        change.fields.append(FieldChange(_label(MembreProjet, "utilisateur"), None, user_id, True))
        return change


def _task_values(tache: Tache) -> dict[str, Any]:
    """The values of ``TASK_FIELDS`` (ids for the users)."""
    return {name: getattr(tache, _ATTNAMES.get(name, name)) for name in TASK_FIELDS}


def _task_fields(tache: Tache, before: Tracked, old: dict[str, Any]) -> list[FieldChange]:
    fields = []
    if tache.statut != before.statut:
        fields.append(
            FieldChange(
                _label(Tache, "statut"),
                Tache.Statut(before.statut).label,
                Tache.Statut(tache.statut).label,
            )
        )
    if tache.date_echeance != before.date_echeance:
        fields.append(
            FieldChange(
                _label(Tache, "date_echeance"),
                _date(before.date_echeance),
                _date(tache.date_echeance),
            )
        )
    if tache.responsable_id != before.responsable_id:
        fields.append(
            FieldChange(
                _label(Tache, "responsable"), before.responsable_id, tache.responsable_id, True
            )
        )
    if tache.priorite != old["priorite"]:
        fields.append(
            FieldChange(
                _label(Tache, "priorite"),
                Tache.Priorite(old["priorite"]).label,
                Tache.Priorite(tache.priorite).label,
            )
        )
    if tache.description != old["description"]:
        fields.append(
            FieldChange(
                _label(Tache, "description"), old["description"][:60], tache.description[:60]
            )
        )
    return fields
