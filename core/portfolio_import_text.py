"""The portfolio import's outcome in words: one way for the command and the page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.services.portfolio_changes import Change
from core.services.portfolio_import import ImportResult


def heading(result: ImportResult) -> str:
    values = {"name": result.file_name, "rows": result.rows}
    if result.dry_run:
        return (
            ngettext(
                "Import of “%(name)s” (dry run: nothing written): %(rows)d row read.",
                "Import of “%(name)s” (dry run: nothing written): %(rows)d rows read.",
                result.rows,
            )
            % values
        )
    return (
        ngettext(
            "Import of “%(name)s”: %(rows)d row read.",
            "Import of “%(name)s”: %(rows)d rows read.",
            result.rows,
        )
        % values
    )


def count_lines(result: ImportResult) -> list[str]:
    """ "Tâches : 120 créée(s), 3 modifiée(s)." and the like."""
    counts = result.counts
    return [
        _("Projects: %(created)d created, %(updated)d updated.")
        % {"created": counts.projects_created, "updated": counts.projects_updated},
        _("Phases: %(created)d created, %(updated)d updated.")
        % {"created": counts.phases_created, "updated": counts.phases_updated},
        _("Tasks: %(created)d created, %(updated)d updated.")
        % {"created": counts.tasks_created, "updated": counts.tasks_updated},
        _("Members added: %(count)d.") % {"count": counts.members_added},
    ]


def no_events() -> str:
    return _(
        "An import sends no event notification (assignment, due date changed...): "
        "the deadline alerts follow as for any task."
    )


def change_line(change: Change) -> str:
    """ "Ligne 5 : tâche « Recette » (portail) modifiée : statut À faire → En cours." """
    name = change.fields[0].new if change.kind == "member" else change.name  # named after the run
    values = {"line": change.line, "name": name, "code": change.code}
    texts = {
        ("project", True): _("Line %(line)d: project “%(name)s” (%(code)s) created"),
        ("project", False): _("Line %(line)d: project “%(name)s” (%(code)s) updated"),
        ("phase", True): _("Line %(line)d: phase “%(name)s” (%(code)s) created"),
        ("phase", False): _("Line %(line)d: phase “%(name)s” (%(code)s) updated"),
        ("task", True): _("Line %(line)d: task “%(name)s” (%(code)s) created"),
        ("task", False): _("Line %(line)d: task “%(name)s” (%(code)s) updated"),
        ("member", True): _("Line %(line)d: %(name)s joins the project %(code)s"),
    }
    text = texts[(change.kind, change.created)] % values
    if change.kind == "member" or not change.fields:
        return text + "."
    fields = "; ".join(f"{field.label} {field.old} → {field.new}" for field in change.fields)
    return _("%(change)s: %(fields)s.") % {"change": text, "fields": fields}


def error_lines(result: ImportResult) -> list[str]:
    lines = [
        _("Line %(line)d: %(error)s.") % {"line": error.line, "error": error.message}
        for error in result.errors
    ]
    if hidden := result.error_count - len(result.errors):
        lines.append(
            ngettext("…and %(count)d more error.", "…and %(count)d more errors.", hidden)
            % {"count": hidden}
        )
    return lines


def refusal(result: ImportResult) -> str:
    return ngettext(
        "File refused: %(count)d error, nothing was imported.",
        "File refused: %(count)d errors, nothing was imported.",
        result.error_count,
    ) % {"count": result.error_count}
