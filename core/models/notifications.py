from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models.tasks import Tache


class NotificationTache(models.Model):
    """An in-app notification about a task, for one recipient."""

    class Type(models.TextChoices):
        ALERTE_ECHEANCE = "ALERTE_ECHEANCE", _("Due soon")
        ALERTE_CRITIQUE = "ALERTE_CRITIQUE", _("Due today")
        ALERTE_RETARD = "ALERTE_RETARD", _("Late")

    destinataire = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    tache = models.ForeignKey(
        Tache, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("task")
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
            models.UniqueConstraint(
                fields=["tache", "destinataire", "type_notification", "date_alerte"],
                condition=Q(date_alerte__isnull=False),
                name="notification_alerte_unique_par_jour",
            ),
        ]
        indexes = [
            # Serves the notification centre: WHERE destinataire_id = ? ORDER BY date_creation DESC.
            models.Index(
                fields=["destinataire", "-date_creation", "-id"], name="notif_destinataire_idx"
            ),
            # Serves the unread badge: COUNT(*) WHERE destinataire_id = ? AND NOT lue.
            models.Index(fields=["destinataire"], condition=Q(lue=False), name="notif_non_lue_idx"),
            # Serves the cleanup: WHERE lue AND date_creation < cutoff.
            models.Index(fields=["date_creation"], condition=Q(lue=True), name="notif_lue_idx"),
            # Serves alert emails: WHERE outbound_email IS NULL AND date_alerte IS NOT NULL.
            models.Index(
                fields=["destinataire"],
                condition=Q(outbound_email__isnull=True, date_alerte__isnull=False),
                name="notif_a_envoyer_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.titre
