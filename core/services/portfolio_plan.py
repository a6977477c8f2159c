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
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Etape, HistoriqueProjet, MembreProjet, Projet, Tache, User
from core.selectors.access import can_manage_project
from core.services.portfolio_changes import (
    PHASE_CREATION_FIELDS,
    PROJECT_CREATION_FIELDS,
    Change,
    Counts,
    FieldChange,
    Writes,
    date_text,
    iso,
    label,
    shown,
    task_fields,
    task_values,
)
from core.services.portfolio_checks import Checked
from core.services.portfolio_file import ImportRow
from core.services.projects import stored
from core.services.task_updates import (
    Tracked,
    clear_snooze,
    creation_row,
    sync_with_status,
    tracked_changes,
)

Action, Sujet = HistoriqueProjet.Action, HistoriqueProjet.Sujet


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
        # The leads a chunk's projects were handed over from: they stay members.
        self.handed_over: dict[tuple[str, int], tuple[int, str]] = {}

    def chunk(self, rows: list[ImportRow]) -> list[Change]:
        writes = Writes()
        changes = self._projects(rows, writes)
        changes += self._phases(rows, writes)
        changes += self._tasks(rows, writes)
        changes += self._members(rows, writes)
        if self.write and not self.errors:
            writes.save(today=self.today)
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

    def _creation(
        self, projet: Projet, obj: Projet | Etape, fields: tuple[str, ...], **about: Any
    ) -> list[HistoriqueProjet]:
        """What ``obj`` starts with: one row per field that is not empty."""
        return [
            self._history(
                projet,
                Action.CREATION,
                champ=name.removesuffix("_id"),
                nouvelle_valeur=value,
                **about,
            )
            for name in fields
            if (value := stored(getattr(obj, name)))
        ]

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
        self._require_management()

    def _require_management(self) -> None:
        """An import in someone's name changes only the projects they may manage
        (their own; every project for an administrator with ``core.change_projet``),
        as the project's pages would let them: never another lead's project."""
        if self.author is None:  # the command, run by an operator on the server
            return
        for key, projet in self.projects.items():
            if not can_manage_project(user=self.author, projet=projet):
                message = _(
                    "the project %(code)s is led by %(lead)s: only its lead or an "
                    "administrator may change it"
                ) % {"code": projet.code, "lead": projet.chef_de_projet}
                self.errors.append((self.checked.projects[key].line, message))

    def _projects(self, rows: list[ImportRow], writes: Writes) -> list[Change]:
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

    def _create_project(self, key: str, writes: Writes) -> Change:
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
        writes.project_history += self._creation(projet, projet, PROJECT_CREATION_FIELDS)
        self.counts.projects_created += 1
        return Change(info.line, "project", True, info.nom, info.code)

    def _update_project(self, projet: Projet, key: str, writes: Writes) -> Change | None:
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
                FieldChange(label(Projet, "chef_de_projet"), projet.chef_de_projet_id, lead, True)
            )
            self.handed_over[(key, projet.chef_de_projet_id)] = (info.line, projet.code)
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
                    ancienne_valeur=stored(old),
                    nouvelle_valeur=stored(value),
                )
            )
            change.fields.append(FieldChange(label(Projet, name), shown(old), shown(value)))
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

    def _phases(self, rows: list[ImportRow], writes: Writes) -> list[Change]:
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

    def _create_phase(self, row: ImportRow, writes: Writes) -> Change:
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
        writes.project_history += self._creation(
            projet,
            etape,
            PHASE_CREATION_FIELDS,
            sujet=Sujet.ETAPE,
            etape=etape,
            etape_nom=etape.nom,
        )
        self.counts.phases_created += 1
        return Change(info.line, "phase", True, row.etape, row.code)

    def _update_phase(self, etape: Etape, row: ImportRow, writes: Writes) -> Change | None:
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
                    ancienne_valeur=iso(old),
                    nouvelle_valeur=iso(value),
                )
            )
            change.fields.append(FieldChange(label(Etape, name), date_text(old), date_text(value)))
            setattr(etape, name, value)
        if not change.fields:
            return None
        writes.changed_phases.append(etape)
        self.counts.phases_updated += 1
        return change

    # Tasks ----------------------------------------------------------------------

    def _tasks(self, rows: list[ImportRow], writes: Writes) -> list[Change]:
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

    def _create_task(self, row: ImportRow, writes: Writes) -> Change:
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

    def _update_task(self, tache: Tache, row: ImportRow, writes: Writes) -> Change | None:
        before = Tracked.of(tache)
        old = task_values(tache)
        tache.responsable_id = self.checked.user_id(row.responsable)
        tache.date_echeance, tache.statut = row.date_echeance, row.statut
        tache.priorite = row.priorite or tache.priorite
        tache.description = tache.description if row.description is None else row.description
        sync_with_status(tache, today=self.today)
        if tache.responsable_id != before.responsable_id:
            clear_snooze(tache)  # the old owner's, as in task_updates.save_task
        changed = {name for name, value in task_values(tache).items() if value != old[name]}
        if not changed:
            return None
        history = tracked_changes(tache, before=before, author=self.author, reason=self.reason)
        tache.date_modification = self.now
        writes.changed_tasks.append(tache)
        writes.task_fields |= changed
        writes.task_history += history
        self.counts.tasks_updated += 1
        return Change(row.line, "task", False, row.tache, row.code, task_fields(tache, before, old))

    # Members --------------------------------------------------------------------

    def _members(self, rows: list[ImportRow], writes: Writes) -> list[Change]:
        """Each owner joins the project (one query for the chunk's memberships); so
        does a lead the file hands the project over from, as on the project's page."""
        wanted, self.handed_over = self.handed_over, {}
        for row in rows:
            user_id = self.checked.user_id(row.responsable)
            if user_id != self.projects[row.project_key].chef_de_projet_id:
                wanted.setdefault((row.project_key, user_id), (row.line, row.code))
        wanted = {pair: about for pair, about in wanted.items() if pair not in self.members}
        if not wanted:
            return []
        self.members |= wanted.keys()
        found: dict[tuple[str, int], MembreProjet] = {}
        old = {self.projects[key].pk for key, _user in wanted if key not in self.new_projects}
        if old:
            query = MembreProjet.objects.filter(
                projet_id__in=old, utilisateur_id__in={user for _key, user in wanted}
            )
            found = {(self.key_of[m.projet_id], m.utilisateur_id): m for m in query}
        changes = []
        for (key, user_id), (line, code) in wanted.items():
            if self._join(key, user_id, found.get((key, user_id)), writes):
                change = Change(line, "member", True, "", code)
                change.fields.append(
                    FieldChange(label(MembreProjet, "utilisateur"), None, user_id, True)
                )
                changes.append(change)
        return changes

    def _join(self, key: str, user_id: int, adhesion: MembreProjet | None, writes: Writes) -> bool:
        """As ``core.services.projects`` does: a row per membership field that changes."""
        projet = self.projects[key]
        if adhesion is None:
            adhesion = MembreProjet(projet=projet, utilisateur_id=user_id, date_debut=self.today)
            before: dict[str, Any] = {"role": None, "date_debut": None, "date_fin": None}
            writes.new_members.append(adhesion)
        elif adhesion.date_debut > self.today or (
            adhesion.date_fin is not None and adhesion.date_fin < self.today
        ):
            before = {name: getattr(adhesion, name) for name in ("role", "date_debut", "date_fin")}
            adhesion.date_debut, adhesion.date_fin = self.today, None
            writes.changed_members.append(adhesion)
        else:
            return False
        writes.project_history += [
            self._history(
                projet,
                Action.AJOUT_MEMBRE,
                sujet=Sujet.MEMBRE,
                membre_id=user_id,
                champ=name,
                ancienne_valeur=stored(old),
                nouvelle_valeur=stored(getattr(adhesion, name)),
            )
            for name, old in before.items()
            if stored(old) != stored(getattr(adhesion, name))
        ]
        self.counts.members_added += 1
        return True
