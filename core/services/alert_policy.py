"""A project's alert policy, set from its page by its lead (the admin edits the same
columns). Each empty column follows NotificationDefaults."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.models import Projet, User
from core.selectors.access import can_set_alert_policy

# The columns of the policy a project may set: the deadline engine's
# (core.services.deadlines.POLICY_FIELDS) and the escalation's limit.
PROJECT_POLICY_FIELDS = (
    "alerte_jours",
    "alerte_chef_aujourdhui",
    "alerte_chef_retard",
    "retard_repetition_jours",
    "escalade_jours_ouvres",
)


def save_alert_policy(
    *,
    projet: Projet,
    by: User,
    alerte_jours: str | None,
    alerte_chef_aujourdhui: bool | None,
    alerte_chef_retard: bool | None,
    retard_repetition_jours: int | None,
    escalade_jours_ouvres: int | None,
) -> list[str]:
    """Save the policy (``None``: the organisation's default), validated and
    normalised as the model says ("3, 7,1" is stored "7,3,1"); the columns that
    changed, recorded in the project's admin history under ``by``'s name.

    Raises ``PermissionDenied`` if ``by`` may not set it, ``ValidationError`` on an
    invalid value; either way nothing is saved.
    """
    if not can_set_alert_policy(user=by, projet=projet):
        raise PermissionDenied(_("Only the project lead can change the project's alerts."))
    policy: dict[str, Any] = {
        "alerte_jours": alerte_jours,
        "alerte_chef_aujourdhui": alerte_chef_aujourdhui,
        "alerte_chef_retard": alerte_chef_retard,
        "retard_repetition_jours": retard_repetition_jours,
        "escalade_jours_ouvres": escalade_jours_ouvres,
    }
    with transaction.atomic():
        stored = Projet.objects.select_for_update().get(pk=projet.pk)
        before = {name: getattr(stored, name) for name in PROJECT_POLICY_FIELDS}
        for name, value in policy.items():
            setattr(stored, name, value)
        others = [
            f.name for f in Projet._meta.concrete_fields if f.name not in PROJECT_POLICY_FIELDS
        ]
        stored.clean_fields(exclude=others)
        changed = [name for name in PROJECT_POLICY_FIELDS if getattr(stored, name) != before[name]]
        if changed:
            stored.save(update_fields=[*changed, "date_modification"])
            _log_change(stored, by=by, changed=changed)
    return changed


def _log_change(projet: Projet, *, by: User, changed: list[str]) -> None:
    """As the admin records a change: the fields' names in the source language,
    translated when the history is shown."""
    fields = [Projet._meta.get_field(name) for name in changed]
    with override(None):
        labels = [str(f.verbose_name) for f in fields if isinstance(f, models.Field)]
    LogEntry.objects.log_actions(
        by.pk, [projet], CHANGE, [{"changed": {"fields": labels}}], single_object=True
    )
