from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EmailKind(models.TextChoices):
    ALERTS = "ALERTS", _("Deadline alerts")
    SUMMARY = "SUMMARY", _("Daily summary")
    EVENTS = "EVENTS", _("Changes to tasks")
    PASSWORD_RESET = "PASSWORD_RESET", _("Password reset")
    OTHER = "OTHER", _("Other")


# Emails that carry a secret (a password-reset link; sign-in links later). Their
# rows hold the recipient and the kind, never a body: the sender renders the
# message, and mints the secret, at send time (core.services.email_rendering).
SECRET_KINDS = frozenset({EmailKind.PASSWORD_RESET})


class OutboxStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    SENDING = "SENDING", _("Sending")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed")


class OutboxRow(models.Model):
    """What every outbox row carries: its state, its attempts and its dates.

    Emails (``OutboundEmail``) and channel messages (``core.models.channels``)
    share it, and share the sender's bookkeeping (``core.services.outbox_queue``).
    """

    Status = OutboxStatus

    # e.g. "summary:<user id>:<date>": makes "once per lead per day" a database rule.
    dedup_key = models.CharField(
        _("deduplication key"), max_length=200, null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # When the sender last took it: health reads how recent attempts fared.
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class OutboundEmail(OutboxRow):
    """An email waiting to be sent, sent, or failed: the outbox.

    Rows are written in the same transaction as what caused them and sent by a
    Celery task dispatched after commit, so an email is never lost. A row keeps
    its body only until it is sent: a sent row is an envelope (who, what, when).
    """

    Kind = EmailKind

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_emails",
        verbose_name=_("recipient"),
    )
    to_address = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # An alert email covers its recipient's alerts of ``alert_day`` with an id in
    # (alerts_after, alerts_through] (core.services.alert_emails): the alerts
    # themselves are never rewritten to say they were emailed.
    alert_day = models.DateField(_("alerts of"), null=True, blank=True)
    alerts_after = models.BigIntegerField(_("alerts after id"), null=True, blank=True)
    alerts_through = models.BigIntegerField(_("alerts through id"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            # A secret must never be readable in the database, by anyone.
            models.CheckConstraint(
                condition=~Q(kind__in=sorted(SECRET_KINDS)) | Q(body_text="", body_html=""),
                name="outbox_secret_email_has_no_body",
            ),
            # A range of alerts, or none.
            models.CheckConstraint(
                condition=Q(
                    alert_day__isnull=True, alerts_after__isnull=True, alerts_through__isnull=True
                )
                | Q(alert_day__isnull=False, alerts_after__lt=models.F("alerts_through")),
                name="outbox_alert_range",
            ),
            # Never two emails from the same point of a recipient's day: concurrent
            # runs cannot both email the same alerts. Also serves the watermark
            # (the recipient's last emailed alert of the day).
            models.UniqueConstraint(
                fields=["recipient", "alert_day", "alerts_after"],
                condition=Q(alert_day__isnull=False),
                name="outbox_alert_range_once",
            ),
        ]
        indexes = [
            # Serves the sender: WHERE status IN ('PENDING','SENDING') ORDER BY created_at.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["PENDING", "SENDING"]),
                name="outbox_to_send_idx",
            ),
            # Serves the cleanup of old sent rows and supervision counts.
            models.Index(fields=["status", "created_at"], name="outbox_status_idx"),
            # Serves health: WHERE last_attempt_at >= ? (how the recent attempts fared).
            models.Index(fields=["last_attempt_at"], name="outbox_last_attempt_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to_address}: {self.subject}"

    @property
    def carries_secret(self) -> bool:
        return self.kind in SECRET_KINDS
