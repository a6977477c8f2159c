from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models.fields import LadderField
from core.models.projects import REPEAT_CHOICES

CACHE_KEY = "core:notification-defaults"
# Other processes (workers) see an administrator's change within this delay.
CACHE_SECONDS = 60


def _default_ladder() -> str:
    return ",".join(map(str, sorted(set(settings.DEADLINE_ALERT_DAYS), reverse=True)))


def _default_repeat() -> int:
    return int(settings.DEADLINE_LATE_REPEAT_DAYS)


class NotificationDefaults(models.Model):
    """The administrators' defaults for users who have not chosen, and the
    organisation's alert policy (one row).

    Until an administrator saves it, the defaults come from the settings
    (NOTIFICATION_DEFAULT_ALERT_EMAILS, NOTIFICATION_DEFAULT_SUMMARY_EMAILS,
    WORKING_DAYS_CALENDAR).
    """

    class Calendrier(models.TextChoices):
        FRANCE = "france", _("France: weekends and public holidays")
        ALSACE_MOSELLE = (
            "alsace-moselle",
            _("Alsace-Moselle: weekends, public holidays, Good Friday and 26 December"),
        )
        AUCUN = "aucun", _("None: every day is a working day")

    alert_emails = models.BooleanField(_("alert emails by default"), default=True)
    summary_emails = models.BooleanField(_("daily summary by default"), default=True)
    calendrier = models.CharField(
        _("working days"),
        max_length=20,
        choices=Calendrier.choices,
        default=Calendrier.FRANCE,
        help_text=_(
            "No alert is dated on a non-working day and no daily summary is sent on one. "
            "Closure days are added under « Non-working days »."
        ),
    )

    # The alert policy of projects that leave theirs empty (Projet.alerte_*).
    alerte_jours = LadderField(
        _("advance alerts (days before the due date)"),
        blank=True,
        default=_default_ladder,
        help_text=_("For example 7, 3, 1; empty or 0 for none."),
    )
    alerte_chef_aujourdhui = models.BooleanField(_("the lead gets due-today alerts"), default=True)
    alerte_chef_retard = models.BooleanField(_("the lead gets late alerts"), default=True)
    retard_repetition_jours = models.PositiveSmallIntegerField(
        _("late alerts repeat every"), choices=REPEAT_CHOICES, default=_default_repeat
    )
    retard_en_jours_ouvres = models.BooleanField(
        _("count days late in working days"),
        default=False,
        help_text=_("A task due on Friday is then 1 day late on Monday, not 3."),
    )
    escalade_jours_ouvres = models.PositiveSmallIntegerField(
        _("escalate after (working days late)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    escalade_groupe = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalations go to"),
        help_text=_("The DSI's portfolio managers: once a week, the tasks late beyond the limit."),
    )

    class Meta:
        verbose_name = _("email defaults")
        verbose_name_plural = _("email defaults")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="notification_defaults_single")
        ]

    def __str__(self) -> str:
        return str(_("Email defaults"))

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(CACHE_KEY)

    @classmethod
    def current(cls) -> NotificationDefaults:
        """The saved row, else the settings' values (unsaved); cached briefly."""
        defaults: NotificationDefaults | None = cache.get(CACHE_KEY)
        if defaults is None:
            defaults = cls.objects.filter(pk=1).first() or cls(
                pk=1,
                alert_emails=settings.NOTIFICATION_DEFAULT_ALERT_EMAILS,
                summary_emails=settings.NOTIFICATION_DEFAULT_SUMMARY_EMAILS,
                calendrier=settings.WORKING_DAYS_CALENDAR,
            )
            cache.set(CACHE_KEY, defaults, CACHE_SECONDS)
        return defaults
