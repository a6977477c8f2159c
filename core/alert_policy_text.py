"""An alert policy in words, the one way the project page and its form say it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.models.projects import REPEAT_CHOICES

if TYPE_CHECKING:
    from core.services.alert_rules import AlertPolicy


def day_list(days: Sequence[int]) -> str:
    """ "7, 3 et 1" (``days`` not empty)."""
    *head, last = (str(day) for day in days)
    if not head:
        return last
    return _("%(items)s and %(last)s") % {"items": ", ".join(head), "last": last}


def ladder_text(days: Sequence[int]) -> str:
    """ "7, 3 et 1 jours avant l'échéance", or that there is no advance alert."""
    if not days:
        return _("no advance alert")
    return ngettext(
        "%(days)s day before the due date", "%(days)s days before the due date", max(days)
    ) % {"days": day_list(days)}


def repeat_text(days: int) -> str:
    """ "chaque jour", "tous les 3 jours"... (any number, not only the form's choices)."""
    label = dict(REPEAT_CHOICES).get(days)
    if label is not None:
        return str(label)
    return ngettext("every %(days)d day", "every %(days)d days", days) % {"days": days}


@dataclass(frozen=True)
class Clause:
    text: str
    default: bool  # the organisation's default, not the project's own choice


def policy_clauses(
    policy: AlertPolicy, *, inherited: Collection[str], escalation: int | None = None
) -> list[Clause]:
    """The policy as a few clauses, each saying whether it is the organisation's
    default; ``inherited`` names the project's columns left empty, ``escalation``
    the working days late beyond which a task is escalated (``None``: never)."""
    clauses = [Clause(ladder_text(policy.days), "alerte_jours" in inherited)]
    clauses += _lead_clauses(
        policy,
        today_default="alerte_chef_aujourdhui" in inherited,
        late_default="alerte_chef_retard" in inherited,
    )
    repeat = _("late alerts repeated %(every)s") % {"every": repeat_text(policy.repeat)}
    clauses.append(Clause(repeat, "retard_repetition_jours" in inherited))
    if escalation is not None:
        text = ngettext(
            "escalated to the portfolio managers beyond %(days)d working day late",
            "escalated to the portfolio managers beyond %(days)d working days late",
            escalation,
        ) % {"days": escalation}
        clauses.append(Clause(text, "escalade_jours_ouvres" in inherited))
    return clauses


def _lead_clauses(policy: AlertPolicy, *, today_default: bool, late_default: bool) -> list[Clause]:
    """What the chef de projet gets besides the owner: one clause when both
    choices agree (and come from the same place), two otherwise."""
    if policy.lead_today == policy.lead_late and today_default == late_default:
        text = (
            _("due-day and late alerts to the project lead")
            if policy.lead_today
            else _("neither due-day nor late alerts to the project lead")
        )
        return [Clause(text, today_default)]
    today = (
        _("due-day alerts to the project lead")
        if policy.lead_today
        else _("no due-day alert to the project lead")
    )
    late = (
        _("late alerts to the project lead")
        if policy.lead_late
        else _("no late alert to the project lead")
    )
    return [Clause(today, today_default), Clause(late, late_default)]
