"""The portfolio import: a DSI's spreadsheet of projects, phases and tasks, all or nothing.

parse (``core.services.portfolio_file``) → validate → plan → apply. The file is
read twice, as a stream: the first pass validates every row (cells, accounts,
rows that disagree) and refuses the whole file on any error, naming each bad
line; the second plans and writes chunk by chunk, in one transaction, with a
fixed number of queries per chunk (the tasks of the chunk's keys in one query,
then bulk inserts and updates). What stays in memory grows with the
organisation (its projects, phases, people), not with the file: one small hash
per task for the duplicate check.

Keys: a project by its code (case-insensitive), a phase by (project, name), a task
by (project, phase, name). Importing the same file again changes nothing. A task's
changes are written to its history exactly as ``core.services.task_updates`` does
(one row per tracked field, the import as reason: a later due date is a slip);
the project's, its phases' and memberships' to ``HistoriqueProjet``. An empty
optional cell changes nothing. An import sends no event notification (no
"assigned to you" for ten thousand tasks): the morning's deadline alerts follow
as for any task.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.services.portfolio_changes import Change, Counts
from core.services.portfolio_checks import Checked, resolve_users
from core.services.portfolio_file import FileRefused, ImportRow, RowError, open_rows
from core.services.portfolio_plan import Plan

CHUNK_ROWS = 500
ERROR_LIMIT = 500  # listed; the others are counted
DETAIL_LIMIT = 20
MAX_ROWS = 100_000


@dataclass
class ImportResult:
    file_name: str
    dry_run: bool
    rows: int = 0
    counts: Counts = field(default_factory=Counts)
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def refuse(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERROR_LIMIT:
            self.errors.append(RowError(line, message))


class _Refused(Exception):
    """Raised inside the transaction to roll back everything written."""


def import_portfolio(
    *,
    path: Path,
    file_name: str,
    author: User | None,
    dry_run: bool,
    today: datetime.date | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Validate the whole file at ``path``, then (unless ``dry_run``) write it; the
    counts, the first changes, or every error (and nothing written)."""
    result = ImportResult(file_name=file_name, dry_run=dry_run)
    try:
        checked = _validate(path, result, chunk_rows=chunk_rows)
        if not result.ok:
            return result
        plan = Plan(
            checked=checked,
            author=author,
            today=today or timezone.localdate(),
            reason=_("Import of the file “%(name)s”") % {"name": file_name[:200]},
            write=not dry_run,
        )
        with transaction.atomic():
            plan.lock_projects()
            for chunk in _chunks(_rows(path, skip=frozenset(checked.duplicates)), chunk_rows):
                for change in plan.chunk(chunk):
                    if len(result.changes) < DETAIL_LIMIT:
                        result.changes.append(change)
            for line, message in plan.errors:
                result.refuse(line, message)
            if not result.ok:
                raise _Refused
    except FileRefused as refused:
        result.refuse(refused.line, str(refused))
    except _Refused:
        pass
    except IntegrityError:  # a project created meanwhile by another import: all rolled back
        result.refuse(1, _("Another import created the same projects meanwhile: run it again."))
    if result.ok:
        result.counts = plan.counts
        result.changes.sort(key=lambda change: change.line)
        _describe_users(result.changes)
    return result


def _rows(path: Path, *, skip: frozenset[int] = frozenset()) -> Iterator[ImportRow]:
    with open_rows(path) as rows:
        for row in rows:
            assert isinstance(row, ImportRow), "validated first"
            if row.line not in skip:
                yield row


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _validate(path: Path, result: ImportResult, *, chunk_rows: int) -> Checked:
    checked = Checked()
    with open_rows(path) as rows:
        for chunk in _chunks(rows, chunk_rows):
            typed = []
            for row in chunk:
                result.rows += 1
                if result.rows > MAX_ROWS:  # a sheet that unzips into millions of rows
                    raise FileRefused(
                        _("The file has more than %(max)d rows: split it.") % {"max": MAX_ROWS}
                    )
                if isinstance(row, ImportRow):
                    typed.append(row)
                else:
                    for error in row:
                        result.refuse(error.line, error.message)
            resolve_users(
                checked.users, {who for row in typed for who in (row.chef, row.responsable)}
            )
            for row in typed:
                for message in checked.check(row):
                    result.refuse(row.line, message)
    if result.rows == 0:
        result.refuse(1, _("The file holds no task."))
    result.errors.sort(key=lambda error: error.line)
    return checked


def _describe_users(changes: list[Change]) -> None:
    """The owners named in the shown changes, by their names (one query)."""
    ids = {value for change in changes for value in change.user_ids()}
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)}
    for change in changes:
        change.name_users(names)
