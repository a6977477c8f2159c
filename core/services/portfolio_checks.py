"""The portfolio import's checks across rows: accounts, and rows that disagree.

Held for the whole file, bounded by the organisation: one entry per person, per
project and per phase named, and one pair of hashes per task (a 64-bit hash of
its key, one of its values: a collision is a one in 10^11 chance at 10,000 rows).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from core.models import User
from core.services.portfolio_file import ImportRow


@dataclass
class ProjectInfo:
    """What the file says of a project (its dates merged from every row)."""

    line: int
    code: str
    nom: str
    chef: str
    debut: datetime.date | None
    fin: datetime.date | None


@dataclass
class PhaseInfo:
    line: int
    debut: datetime.date | None
    fin: datetime.date | None


@dataclass
class Checked:
    """The file's accounts, projects and phases once validated; ``duplicates``: the
    lines that repeat another one exactly (skipped)."""

    users: dict[str, int | str] = field(default_factory=dict)
    projects: dict[str, ProjectInfo] = field(default_factory=dict)
    phases: dict[tuple[str, str], PhaseInfo] = field(default_factory=dict)
    tasks: dict[int, tuple[int, int]] = field(default_factory=dict)
    duplicates: set[int] = field(default_factory=set)

    def user_id(self, who: str) -> int:
        found = self.users[who]
        assert isinstance(found, int), "validated first"
        return found

    def check(self, row: ImportRow) -> list[str]:
        """The errors of ``row`` against its accounts and the rows before it."""
        errors = [
            _("column “%(name)s”: %(error)s") % {"name": name, "error": self.users[who]}
            for name, who in (("chef_de_projet", row.chef), ("responsable", row.responsable))
            if isinstance(self.users[who], str)
        ]
        return errors + self._project(row) + self._phase(row) + self._task(row)

    def _project(self, row: ImportRow) -> list[str]:
        info = self.projects.get(row.project_key)
        if info is None:
            self.projects[row.project_key] = ProjectInfo(
                row.line, row.code, row.projet, row.chef, row.date_debut_projet, row.date_fin_projet
            )
            return []
        values = {"code": row.code, "line": info.line}
        errors = []
        if row.projet != info.nom:
            errors.append(_("the project %(code)s has another name on line %(line)d") % values)
        if row.chef != info.chef:
            errors.append(_("the project %(code)s has another lead on line %(line)d") % values)
        errors += _merge_dates(info, row.date_debut_projet, row.date_fin_projet)
        if not errors and info.debut and info.fin and info.fin < info.debut:
            errors.append(_("the project %(code)s would end before it starts") % values)
        return errors

    def _phase(self, row: ImportRow) -> list[str]:
        if not row.etape:
            return []
        info = self.phases.get(row.phase_key)
        if info is None:
            self.phases[row.phase_key] = PhaseInfo(
                row.line, row.date_debut_etape, row.date_fin_etape
            )
            return []
        errors = _merge_dates(info, row.date_debut_etape, row.date_fin_etape)
        if not errors and info.debut and info.fin and info.fin < info.debut:
            errors.append(_("the phase would end before it starts"))
        return errors

    def _task(self, row: ImportRow) -> list[str]:
        key = hash(row.task_key)
        values = hash(
            (row.responsable, row.date_echeance, row.statut, row.priorite, row.description)
        )
        seen = self.tasks.get(key)
        if seen is None:
            self.tasks[key] = (row.line, values)
            return []
        if seen[1] == values:
            self.duplicates.add(row.line)
            return []
        return [_("the same task is on line %(line)d with other values") % {"line": seen[0]}]


def _merge_dates(
    info: ProjectInfo | PhaseInfo, debut: datetime.date | None, fin: datetime.date | None
) -> list[str]:
    """Take the dates a row gives that earlier rows left empty; two rows giving
    different dates are an error."""
    errors = []
    for name, value in (("debut", debut), ("fin", fin)):
        known = getattr(info, name)
        if value is None:
            continue
        if known is None:
            setattr(info, name, value)
        elif known != value:
            errors.append(_("another date is given on line %(line)d") % {"line": info.line})
    return errors


def resolve_users(cache: dict[str, int | str], identifiers: set[str]) -> None:
    """Fill ``cache`` (username or email in lower case → user id, or why not) for
    the ``identifiers`` not in it yet, in one query. A username is matched first."""
    wanted = identifiers - cache.keys()
    if not wanted:
        return
    emails = {who for who in wanted if "@" in who}
    found = (
        User.objects.annotate(lower_username=Lower("username"), lower_email=Lower("email"))
        .filter(Q(lower_username__in=wanted) | Q(lower_email__in=emails))
        .values_list("pk", "lower_username", "lower_email", "is_active")
    )
    by_name: dict[str, tuple[int, bool]] = {}
    by_email: dict[str, list[tuple[int, bool]]] = {}
    for pk, username, email, active in found:
        by_name[username] = (pk, active)
        by_email.setdefault(email, []).append((pk, active))
    for who in wanted:
        matches = [by_name[who]] if who in by_name else by_email.get(who, [])
        if not matches:
            cache[who] = _("no account “%(who)s”") % {"who": who}
        elif len(matches) > 1:
            cache[who] = _("several accounts have the address “%(who)s”") % {"who": who}
        elif not matches[0][1]:
            cache[who] = _("the account “%(who)s” is deactivated") % {"who": who}
        else:
            cache[who] = matches[0][0]
