from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models.fields import NameField
from core.models.preferences import NotificationDefaults

# The hours a digest may be chosen at: after the morning check (08:00 by default).
DIGEST_HOURS = range(9, 21)


class AccountSource(models.TextChoices):
    """Where an account's identity and password live."""

    LOCAL = "local", _("local account")
    LDAP = "ldap", _("directory (LDAP)")
    OIDC = "oidc", _("identity provider (OpenID Connect)")


class User(AbstractUser):
    """A person of the organisation: project lead, task owner, administrator.

    The two email preferences are tri-state: ``None`` means "the administrators'
    default" (settings), so changing a default reaches everyone who never chose.
    """

    # Names reach emails and pages: typed text, one line (AbstractUser's own sizes).
    first_name = NameField(_("first name"), max_length=150, blank=True)
    last_name = NameField(_("last name"), max_length=150, blank=True)
    email_alerts = models.BooleanField(
        _("alert emails"),
        null=True,
        blank=True,
        help_text=_("Empty: the default chosen by the administrators."),
    )
    email_summary = models.BooleanField(
        _("daily summary email"),
        null=True,
        blank=True,
        help_text=_("Empty: the default chosen by the administrators."),
    )
    # When the alert emails and the daily summary come: empty, right after the
    # morning check; else once, as a digest, at this hour (Europe/Paris).
    email_hour = models.PositiveSmallIntegerField(
        _("alert emails at"),
        null=True,
        blank=True,
        choices=[(hour, f"{hour:02d}:00") for hour in DIGEST_HOURS],
        help_text=_("Empty: right after the morning check."),
    )
    email_working_days_only = models.BooleanField(
        _("alert emails on working days only"),
        default=False,
        db_default=False,  # rows written in SQL (the benchmarks' worlds) too
        help_text=_("None on Saturdays, Sundays and the organisation's non-working days."),
    )
    # The event notifications (NotificationTache.EVENT_TYPES) the user switched
    # off: none is created for them, so none is emailed either.
    muted_events = models.JSONField(_("event notifications switched off"), default=list, blank=True)
    # Rate limit of password-reset emails, claimed with a conditional UPDATE
    # (core.services.password_reset): at most one per account per interval.
    password_reset_requested_at = models.DateTimeField(
        _("last password reset request"), null=True, blank=True, editable=False
    )

    # A directory account is created and kept in step by the directory at each
    # sign-in (core.services.directory_accounts); its password is never stored here.
    account_source = models.CharField(
        _("account source"),
        max_length=5,
        choices=AccountSource.choices,
        default=AccountSource.LOCAL,
        editable=False,
    )
    # The directory's own identifier: the LDAP entry's DN, the provider's ``sub``.
    directory_id = models.CharField(
        _("directory identifier"), max_length=512, blank=True, default="", editable=False
    )
    directory_synced_at = models.DateTimeField(
        _("last synchronised with the directory"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["account_source", "directory_id"],
                condition=~models.Q(directory_id=""),
                name="one_account_per_directory_entry",
            )
        ]

    @property
    def from_directory(self) -> bool:
        return self.account_source != AccountSource.LOCAL

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def wants_alert_emails(self) -> bool:
        if self.email_alerts is None:
            return NotificationDefaults.current().alert_emails
        return self.email_alerts

    def wants_event(self, type_notification: str) -> bool:
        return type_notification not in self.muted_events

    @property
    def wants_summary_emails(self) -> bool:
        if self.email_summary is None:
            return NotificationDefaults.current().summary_emails
        return self.email_summary
