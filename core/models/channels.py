"""Team channels (Teams, Slack, Mattermost, Matrix, a JSON webhook) and the outbox
of the messages posted to them (``core.services.channel_messages``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models.fields import NameField
from core.models.outbox import OutboxRow


class Canal(models.Model):
    """Where a project's or a person's alerts are posted: an Apprise URL.

    The URL holds the service's secret (a webhook token, a password): it is
    written once, from the form, and never shown back; pages and the admin show
    ``url_masquee`` (``core.services.channel_urls.masked``), and logs never
    carry it. Owned by exactly one project (its lead manages it) or one user (a
    personal channel)."""

    nom = NameField(_("label"), max_length=100)
    url = models.TextField(_("URL"))
    url_masquee = models.CharField(_("URL (masked)"), max_length=300)
    projet = models.ForeignKey(
        "core.Projet",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canaux",
        verbose_name=_("project"),
    )
    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canaux",
        verbose_name=_("user"),
    )
    actif = models.BooleanField(_("active"), default=True)
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    # The last event notification (NotificationTache id) put in a message to this
    # personal channel: the next run takes the newer ones only, never one twice.
    events_sent_up_to = models.BigIntegerField(_("events posted up to"), default=0)

    class Meta:
        ordering = ["nom", "id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.CheckConstraint(
                condition=Q(projet__isnull=False, utilisateur__isnull=True)
                | Q(projet__isnull=True, utilisateur__isnull=False),
                name="canal_un_proprietaire",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nom} ({self.url_masquee})"


class MessageKind(models.TextChoices):
    ALERTS = "ALERTS", _("Deadline alerts")
    EVENTS = "EVENTS", _("Changes to tasks")


class MessageCanal(OutboxRow):
    """A message waiting to be posted to a channel, posted, or failed.

    Written in the transaction of what caused it, posted by a Celery task with
    the email outbox's leases and backoff (``core.services.outbox_queue``). The
    dedup key (``alerts:<channel>:<day>``, ``events:<channel>:<last event>``)
    makes "once" a database rule."""

    Kind = MessageKind

    canal = models.ForeignKey(
        Canal, on_delete=models.CASCADE, related_name="messages", verbose_name=_("channel")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("channel message")
        verbose_name_plural = _("channel messages")
        indexes = [
            # Serves the sender: WHERE status IN ('PENDING','SENDING') ORDER BY created_at.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["PENDING", "SENDING"]),
                name="message_canal_to_send_idx",
            ),
            # Serves the admin's list by status and the cleanup of old posted rows.
            models.Index(fields=["status", "created_at"], name="message_canal_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title
