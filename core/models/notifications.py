from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models.projects import Projet, Tache

SUBJECTS = ("tache", "etape", "projet", "export")


def _only(subject: str) -> dict[str, bool]:
    """The lookups of a notification about ``subject`` and nothing else."""
    return {f"{field}__isnull": field != subject for field in SUBJECTS}


class NotificationTache(models.Model):
    """An in-app notification about a task, for one recipient."""

    class Type(models.TextChoices):
        ALERTE_ECHEANCE = "ALERTE_ECHEANCE", _("Due soon")
        ALERTE_CRITIQUE = "ALERTE_CRITIQUE", _("Due today")
        ALERTE_RETARD = "ALERTE_RETARD", _("Late")
        # A phase's or a project's planned end (core.services.milestone_alerts).
        ALERTE_ETAPE = "ALERTE_ETAPE", _("Phase deadline")
        ALERTE_PROJET = "ALERTE_PROJET", _("Project deadline")
        # A task late beyond the project's limit, to the portfolio managers, weekly.
        ESCALADE = "ESCALADE", _("Escalated")
        # Events: what someone else changed on a task (core.services.task_events).
        BLOCAGE = "BLOCAGE", _("Blockage reported")
        DEBLOCAGE = "DEBLOCAGE", _("Blockage lifted")
        ASSIGNATION = "ASSIGNATION", _("Task assigned to you")
        ECHEANCE_MODIFIEE = "ECHEANCE_MODIFIEE", _("Due date changed")
        REOUVERTURE = "REOUVERTURE", _("Task re-opened")
        # A project handed over to its new lead (core.services.projects), in the
        # notification centre only: not one of the task events the events email
        # and the preferences are about.
        PASSATION = "PASSATION", _("Project handed over to you")
        # A portfolio export prepared in the background (core.services.
        # portfolio_export_jobs): in the notification centre only, never emailed
        # (no date_alerte, not an event type).
        EXPORT_PRET = "EXPORT_PRET", _("Export ready")
        EXPORT_ECHOUE = "EXPORT_ECHOUE", _("Export failed")

    # Every index slows the deadline engine's bulk insert, so none is redundant:
    # destinataire is served by notif_destinataire_idx (cascades included), and
    # outbound_email by a partial index on the rows that have one.
    destinataire = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # What the notification is about: a task, else a phase, else a project.
    tache = models.ForeignKey(
        Tache,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("task"),
    )
    etape = models.ForeignKey(
        "core.Etape",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,  # a partial index: the task alerts do not pay for it
        related_name="notifications",
        verbose_name=_("phase"),
    )
    projet = models.ForeignKey(
        "core.Projet",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,  # a partial index: the task alerts do not pay for it
        related_name="notifications",
        verbose_name=_("project"),
    )
    export = models.ForeignKey(
        "core.ExportPortefeuille",
        on_delete=models.CASCADE,  # an expired export takes its notifications along
        null=True,
        blank=True,
        db_index=False,  # a partial index: the task alerts do not pay for it
        related_name="notifications",
        verbose_name=_("export"),
    )
    # The absent owner this alert was meant for (core.models.Absence): the lead
    # gets it in their stead.
    delegue_pour = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    type_notification = models.CharField(_("type"), max_length=30, choices=Type.choices)
    titre = models.CharField(_("title"), max_length=255)
    message = models.TextField(_("message"))
    lue = models.BooleanField(_("read"), default=False)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    date_lecture = models.DateTimeField(_("read at"), null=True, blank=True)
    # The business day (Europe/Paris) the alert is about: part of the dedup key.
    date_alerte = models.DateField(_("alert day"), null=True, blank=True)
    # The due date the alert was computed from, for the record.
    date_echeance = models.DateField(_("due date"), null=True, blank=True)
    # Set once the alert has been put in an email (core.services.alert_emails).
    outbound_email = models.ForeignKey(
        "core.OutboundEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="notifications",
        verbose_name=_("email"),
    )

    class Meta:
        ordering = ["-date_creation", "-id"]
        verbose_name = _("task notification")
        verbose_name_plural = _("task notifications")
        constraints = [
            # At most one alert of a type per task, recipient and day: reruns,
            # concurrent runs and redelivered tasks insert-or-ignore against it.
            # Rows without date_alerte never conflict (NULLs are distinct). Leading
            # with the day then the recipient, it also serves the engine's rerun
            # (anti-join on the day's alerts) and the alert emails, chunk by chunk
            # of recipients (WHERE date_alerte = ? AND destinataire_id IN (...)).
            models.UniqueConstraint(
                fields=["date_alerte", "destinataire", "tache", "type_notification"],
                name="notification_alerte_unique_par_jour",
            ),
            # The same for the alerts about a phase and about a project.
            models.UniqueConstraint(
                fields=["date_alerte", "destinataire", "etape", "type_notification"],
                condition=Q(etape__isnull=False),
                name="notification_etape_unique_par_jour",
            ),
            models.UniqueConstraint(
                fields=["date_alerte", "destinataire", "projet", "type_notification"],
                condition=Q(projet__isnull=False),
                name="notification_projet_unique_par_jour",
            ),
            # About exactly one thing.
            models.CheckConstraint(
                condition=Q(**_only("tache"))
                | Q(**_only("etape"))
                | Q(**_only("projet"))
                | Q(**_only("export")),
                name="notification_un_sujet",
            ),
        ]
        indexes = [
            # Serves the notification centre: WHERE destinataire_id = ? AND
            # (date_creation, id) < (?, ?) ORDER BY date_creation DESC, id DESC.
            models.Index(
                fields=["destinataire", "-date_creation", "-id"], name="notif_destinataire_idx"
            ),
            # Serves the unread badge (COUNT up to 100 WHERE destinataire_id = ? AND
            # NOT lue), the unread filter of the notification centre (keyset pages,
            # newest first) and "mark all read" (batches of the user's unread ones).
            models.Index(
                fields=["destinataire", "-date_creation", "-id"],
                condition=Q(lue=False),
                name="notif_non_lue_idx",
            ),
            # Serves the cleanup: WHERE lue AND date_creation < cutoff.
            models.Index(fields=["date_creation"], condition=Q(lue=True), name="notif_lue_idx"),
            # Serves the event emails (core.services.alert_emails.queue_event_emails):
            # the recipients of un-emailed events, a few minutes' worth. Alerts
            # (date_alerte set) never enter it: the engine's insert does not pay.
            models.Index(
                fields=["destinataire", "date_creation"],
                condition=Q(outbound_email__isnull=True, date_alerte__isnull=True),
                name="notif_evenement_a_envoyer_idx",
            ),
            # Serve the cascades when a phase or a project is deleted.
            models.Index(
                fields=["etape"], condition=Q(etape__isnull=False), name="notif_etape_idx"
            ),
            models.Index(
                fields=["projet"], condition=Q(projet__isnull=False), name="notif_projet_idx"
            ),
            models.Index(
                fields=["export"], condition=Q(export__isnull=False), name="notif_export_idx"
            ),
            # Serves the SET NULL when old sent emails are deleted:
            # UPDATE ... WHERE outbound_email_id IN (...).
            models.Index(
                fields=["outbound_email"],
                condition=Q(outbound_email__isnull=False),
                name="notif_email_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.titre

    @property
    def urgency(self) -> str:
        """The urgency class in the UI: "late", "today", "soon" (the deadline
        alerts) or "event"."""
        return urgency_of(self.type_notification, self.date_alerte, self.date_echeance)

    @property
    def subject_project(self) -> Projet | None:
        """The project the notification is about: its task's, its phase's or
        itself (needs the relations loaded: ``SUBJECT_RELATED``)."""
        if self.tache is not None:
            return self.tache.projet
        if self.etape is not None:
            return self.etape.projet
        return self.projet

    @property
    def is_event(self) -> bool:
        return self.type_notification in EVENT_TYPES

    @property
    def task_closed(self) -> bool:
        """An alert whose task is done or cancelled since: it reads as handled,
        not as a live "late by 6 days" (needs ``tache`` loaded)."""
        return self.tache is not None and not self.is_event and self.tache.statut in CLOSED_STATUTS


URGENCY: dict[str, str] = {
    NotificationTache.Type.ALERTE_RETARD: "late",
    NotificationTache.Type.ALERTE_CRITIQUE: "today",
    NotificationTache.Type.ALERTE_ECHEANCE: "soon",
}

# A phase's or a project's planned end: its urgency is the day's, as a task's
# alert types say it (before the end, on the day, after it).
MILESTONE_TYPES = (NotificationTache.Type.ALERTE_ETAPE, NotificationTache.Type.ALERTE_PROJET)
# What the daily deadline check creates (its counts are keyed by them).
ALERT_TYPES = (*URGENCY, *MILESTONE_TYPES)
# What select_related needs for ``subject_project`` and the task's actions.
SUBJECT_RELATED = ("tache__projet", "etape__projet", "projet")


def urgency_of(alert_type: str, alert_day: datetime.date | None, due: datetime.date | None) -> str:
    """The urgency class of a notification of ``alert_type`` raised on
    ``alert_day`` about a deadline on ``due``."""
    if alert_type in MILESTONE_TYPES:
        if alert_day is None or due is None or due > alert_day:
            return "soon"
        return "late" if due < alert_day else "today"
    return URGENCY.get(alert_type, "event")


EVENT_TYPES: frozenset[str] = frozenset(
    {
        NotificationTache.Type.BLOCAGE,
        NotificationTache.Type.DEBLOCAGE,
        NotificationTache.Type.ASSIGNATION,
        NotificationTache.Type.ECHEANCE_MODIFIEE,
        NotificationTache.Type.REOUVERTURE,
    }
)
CLOSED_STATUTS = (Tache.Statut.TERMINEE, Tache.Statut.ANNULEE)
