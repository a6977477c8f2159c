"""Writes to a task: the lead's edit, the owner's update, the one-click actions.

Every write locks the task row, compares with what is stored, saves, keeps the
completion date in step with the status and writes one history row per changed
field (status, due date, owner, progress), the event notifications the change
calls for (``core.services.task_events``) and, when the status, due date or
project changed, the project's portfolio figures (``core.services.portfolio_figures``),
in one transaction: the history can never miss a change made through the
application, nor record one that was rolled back.
An update that writes history is refused (``update_limits.TooManyUpdates``, nothing
saved) once its author reached their limits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import HistoriqueTache, NotificationTache, Tache, User
from core.services import portfolio_figures, task_events, update_limits

Champ = HistoriqueTache.Champ
Statut = Tache.Statut
# What an owner may set; the lead's form offers every status.
OWNER_STATUTS = (Statut.A_FAIRE, Statut.EN_COURS, Statut.BLOQUEE, Statut.TERMINEE)


@dataclass(frozen=True)
class Tracked:
    """The tracked fields of a task as stored before a change."""

    statut: str
    date_echeance: datetime.date | None
    responsable_id: int | None
    avancement: int

    @classmethod
    def of(cls, tache: Tache) -> Tracked:
        return cls(tache.statut, tache.date_echeance, tache.responsable_id, tache.avancement)

    def change(self, tache: Tache, *, author: User, reason: str) -> task_events.Change:
        return task_events.Change(
            tache=tache,
            author=author,
            reason=reason,
            old_statut=self.statut,
            old_echeance=self.date_echeance,
            old_responsable_id=self.responsable_id,
        )


def create_task(*, tache: Tache, author: User, today: datetime.date) -> Tache:
    """Save a new task and open its history with the values it starts with."""
    with transaction.atomic():
        sync_with_status(tache, today=today)
        tache.save()
        creation_row(tache, author=author).save()
        task_events.record_events(task_events.Change(tache=tache, author=author, created=True))
        portfolio_figures.refresh_projects([tache.projet_id], today=today)
    return tache


def creation_row(tache: Tache, *, author: User | None, reason: str = "") -> HistoriqueTache:
    """The first row of a task's history (not saved yet): the values it starts with."""
    return HistoriqueTache(
        tache=tache,
        auteur=author,
        champ=Champ.CREATION,
        nouveau_statut=tache.statut,
        nouvelle_echeance=tache.date_echeance,
        nouveau_responsable_id=tache.responsable_id,
        motif=reason,
    )


def save_task(
    *,
    tache: Tache,
    author: User,
    today: datetime.date,
    reason: str = "",
    rate_limited: bool = True,
) -> list[HistoriqueTache]:
    """The lead's edit (or the admin's): save every field of ``tache``; one history
    row per tracked field that changed, with ``reason``. ``rate_limited=False``
    for the admin, the DSI's own tool, which writes no text into the history."""
    with transaction.atomic():
        stored = Tache.objects.select_for_update().get(pk=tache.pk)
        before = Tracked.of(stored)
        sync_with_status(tache, today=today)
        if tache.responsable_id != before.responsable_id:
            clear_snooze(tache)  # the old owner's: the new one starts without it
        tache.save()
        rows = tracked_changes(tache, before=before, author=author, reason=reason)
        rows = _write(rows, author=author, tache_id=tache.pk, rate_limited=rate_limited)
        task_events.record_events(before.change(tache, author=author, reason=reason))
        if _counted_change(rows) or tache.projet_id != stored.projet_id:
            portfolio_figures.refresh_projects([stored.projet_id, tache.projet_id], today=today)
        return rows


def update_progress(
    *,
    tache_id: int,
    author: User,
    statut: str,
    avancement: int,
    comment: str = "",
    today: datetime.date,
) -> list[HistoriqueTache]:
    """The owner's update: status, progress and a comment (the reason of a block).

    Only these fields are written, so a lead's concurrent edit of the others is
    kept. A comment without any change is kept in the history as a comment.
    """
    if statut not in OWNER_STATUTS:
        raise ValidationError(_("This status cannot be set here."), code="statut")
    with transaction.atomic():
        tache = Tache.objects.select_for_update().get(pk=tache_id)
        before = Tracked.of(tache)
        _require_reason_if_blocked(statut, comment, before=before)
        tache.statut = statut
        tache.avancement = avancement
        sync_with_status(tache, today=today)
        tache.save(update_fields=["statut", "avancement", "date_fin_reelle", "date_modification"])
        rows = tracked_changes(tache, before=before, author=author, reason=comment)
        if comment and not rows:
            rows = [
                HistoriqueTache(tache=tache, auteur=author, champ=Champ.COMMENTAIRE, motif=comment)
            ]
        rows = _write(rows, author=author, tache_id=tache.pk)
        task_events.record_events(before.change(tache, author=author, reason=comment))
        if _counted_change(rows):
            portfolio_figures.refresh_projects([tache.projet_id], today=today)
        if statut == Statut.TERMINEE:
            _alerts_handled(tache, user=author)
    return rows


def delete_tasks(*, tache_ids: list[int], today: datetime.date) -> int:
    """Delete tasks (the admin's), their projects' figures counted again."""
    with transaction.atomic():
        taches = Tache.objects.filter(pk__in=tache_ids)
        projet_ids = list(taches.values_list("projet_id", flat=True).distinct())
        deleted, _per_model = taches.delete()
        portfolio_figures.refresh_projects(projet_ids, today=today)
    return deleted


def mark_done(*, tache_id: int, author: User, today: datetime.date) -> bool:
    """One click from an alert: the task is done. False if it already was."""
    tache = Tache.objects.only("statut", "avancement").get(pk=tache_id)
    if tache.statut == Statut.TERMINEE:
        return False
    rows = update_progress(
        tache_id=tache_id, author=author, statut=Statut.TERMINEE, avancement=100, today=today
    )
    return bool(rows)


def report_blocked(*, tache_id: int, author: User, reason: str, today: datetime.date) -> bool:
    """The owner says what blocks the task; the reason goes to the history and to
    the lead (on a task already blocked, it is kept as a comment)."""
    return bool(_set_status(tache_id, Statut.BLOQUEE, author=author, comment=reason, today=today))


def lift_block(*, tache_id: int, author: User, today: datetime.date, comment: str = "") -> bool:
    """ "Lever le blocage" (the lead or the owner): the task is in progress again,
    the owner told. False if it was no longer blocked."""
    if not Tache.objects.filter(pk=tache_id, statut=Statut.BLOQUEE).exists():
        return False
    return bool(_set_status(tache_id, Statut.EN_COURS, author=author, comment=comment, today=today))


def check_snooze(*, tache: Tache, until: datetime.date, today: datetime.date) -> None:
    """A snooze of the advance alerts ends tomorrow at the earliest and on the due
    date at the latest (the due-today and late alerts are never snoozed)."""
    if tache.date_echeance is None or tache.date_echeance <= today or not tache.is_open:
        raise ValidationError(
            _("This task has no advance alert left to snooze."), code="nothing_to_snooze"
        )
    if until <= today:
        raise ValidationError(_("Choose a date from tomorrow on."), code="snooze_past")
    if until > tache.date_echeance:
        raise ValidationError(
            _("The snooze ends on the due date at the latest."), code="snooze_after_due"
        )


def snooze_advance_alerts(
    *, tache_id: int, author: User, until: datetime.date, reason: str, today: datetime.date
) -> bool:
    """The owner silences the task's advance alerts until ``until`` (included),
    saying why; the lead sees it on the task's page. False if it already was so."""
    with transaction.atomic():
        tache = Tache.objects.select_for_update().get(pk=tache_id)
        check_snooze(tache=tache, until=until, today=today)
        if (tache.report_alertes_jusqu_au, tache.report_motif) == (until, reason):
            return False
        tache.report_alertes_jusqu_au, tache.report_motif, tache.report_par = until, reason, author
        tache.save(update_fields=[*SNOOZE_FIELDS, "date_modification"])
    return True


def clear_snooze(tache: Tache) -> None:
    tache.report_alertes_jusqu_au, tache.report_motif, tache.report_par = None, "", None


def lift_snooze(*, tache_id: int) -> bool:
    """The advance alerts come again; False if they were not snoozed."""
    lifted = Tache.objects.filter(pk=tache_id, report_alertes_jusqu_au__isnull=False).update(
        report_alertes_jusqu_au=None, report_motif="", report_par=None
    )
    return bool(lifted)


SNOOZE_FIELDS = ("report_alertes_jusqu_au", "report_motif", "report_par")


def _set_status(
    tache_id: int, statut: str, *, author: User, comment: str, today: datetime.date
) -> list[HistoriqueTache]:
    """A one-click change of status; the progress stays as it is."""
    avancement = Tache.objects.values_list("avancement", flat=True).get(pk=tache_id)
    return update_progress(
        tache_id=tache_id,
        author=author,
        statut=statut,
        avancement=avancement,
        comment=comment,
        today=today,
    )


def _require_reason_if_blocked(statut: str, reason: str, *, before: Tracked) -> None:
    if statut == Statut.BLOQUEE != before.statut and not reason.strip():
        raise ValidationError(_("Say what blocks the task."), code="reason_required")


def sync_with_status(tache: Tache, *, today: datetime.date) -> None:
    """The completion date feeds "done this week": kept in step with the status,
    like the progress of a finished task (100 %). Public for the import."""
    if tache.statut == Statut.TERMINEE:
        tache.avancement = 100
        if tache.date_fin_reelle is None:
            tache.date_fin_reelle = today
    else:
        tache.date_fin_reelle = None


# What a history row keeps of each tracked field: (task field, kind, old, new column).
_HISTORY_COLUMNS = (
    ("statut", Champ.STATUT, "ancien_statut", "nouveau_statut"),
    ("date_echeance", Champ.ECHEANCE, "ancienne_echeance", "nouvelle_echeance"),
    ("responsable_id", Champ.RESPONSABLE, "ancien_responsable_id", "nouveau_responsable_id"),
    ("avancement", Champ.AVANCEMENT, "ancien_avancement", "nouvel_avancement"),
)


def tracked_changes(
    tache: Tache, *, before: Tracked, author: User | None, reason: str
) -> list[HistoriqueTache]:
    """One history row (not saved yet) per tracked field that changed (the import
    writes them in bulk, with no author when run from the command line)."""
    common = {"tache": tache, "auteur": author, "date": timezone.now(), "motif": reason}
    return [
        HistoriqueTache(
            champ=kind, **{old: getattr(before, field), new: getattr(tache, field)}, **common
        )
        for field, kind, old, new in _HISTORY_COLUMNS
        if getattr(tache, field) != getattr(before, field)
    ]


def _write(
    rows: list[HistoriqueTache], *, author: User, tache_id: int, rate_limited: bool = True
) -> list[HistoriqueTache]:
    """Insert the rows in one statement, within the author's allowance."""
    if rows and rate_limited:
        update_limits.require_allowance(author=author, tache_id=tache_id, now=rows[0].date)
    return HistoriqueTache.objects.bulk_create(rows)


def _counted_change(rows: list[HistoriqueTache]) -> bool:
    """Whether a change moves the portfolio's figures (a status or a due date)."""
    return any(row.champ in (Champ.STATUT, Champ.ECHEANCE) for row in rows)


def _alerts_handled(tache: Tache, *, user: User) -> None:
    """Closing a task from its alerts handles them: the closer's unread ones are read."""
    NotificationTache.objects.filter(tache=tache, destinataire=user, lue=False).update(
        lue=True, date_lecture=timezone.now()
    )
