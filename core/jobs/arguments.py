"""Arguments of the periodic jobs, checked alike for a Celery task and a command.

A bad value is an ``InvalidArgument`` (a ``ValueError``) with one French sentence,
raised before anything runs or is recorded: a task fails at once, unretried; a
command prints the sentence and exits non-zero.

Which day a job may run for:
- today, always;
- a past day (up to ``MAX_DAYS_AWAY``): a job declared ``backfill`` only (the
  deadline check), writing that day's records but queuing no email unless asked
  explicitly; the others (the daily summary) run for today only (dry run else);
- a future day: a dry run only (nothing written, nothing sent).
None of these runs for another day counts as today's run.

A scheduled or catch-up message carries the day it was sent for (``sent``): past
midnight it is still that day's run, never the new day's. Its day may then be
past for any job: the deadline check runs it as history (``--date``'s rules), the
today-only summary is recorded as skipped (``core.jobs.runs.run_job``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.jobs.registry import PeriodicJob
from core.models import JobRun
from core.services.cleanup import validate_days

MAX_DAYS_AWAY = 366


class InvalidArgument(ValueError):
    """A job argument that cannot be used; its message is for the operator."""


def trigger(value: object) -> str:
    if value not in JobRun.Trigger.values:
        raise InvalidArgument(
            _("Unknown trigger %(value)r: expected one of %(choices)s.")
            % {"value": value, "choices": ", ".join(JobRun.Trigger.values)}
        )
    return str(value)


def iso_day(value: object) -> datetime.date | None:
    """``None`` (today), or a date from a ``YYYY-MM-DD`` string."""
    if value is None or isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidArgument(
            _("Invalid date %(value)r: expected YYYY-MM-DD.") % {"value": value}
        ) from None


def run_day(
    value: object,
    *,
    job: PeriodicJob,
    dry_run: bool = False,
    today: datetime.date | None = None,
    sent: bool = False,
) -> datetime.date:
    """The business day a run of ``job`` is for, per the rules above; ``sent``:
    the day was fixed when beat or the catch-up sent the message."""
    today = today or timezone.localdate()
    day = iso_day(value) or today
    label = formats.date_format(day, "SHORT_DATE_FORMAT")
    if abs((day - today).days) > MAX_DAYS_AWAY:
        raise InvalidArgument(
            _("%(date)s is more than %(days)d days away from today.")
            % {"date": label, "days": MAX_DAYS_AWAY}
        )
    if day > today and not dry_run:
        raise InvalidArgument(
            _("%(date)s is in the future: only a dry run (--dry-run) can look ahead.")
            % {"date": label}
        )
    if day < today and not job.backfill and not dry_run and not sent:
        raise InvalidArgument(
            _("%(job)s runs for today only; use --dry-run to preview %(date)s.")
            % {"job": job.label, "date": label}
        )
    return day


def days(value: object) -> int:
    """Retention in days: ``None`` reads NOTIFICATION_RETENTION_DAYS now."""
    try:
        return validate_days(settings.NOTIFICATION_RETENTION_DAYS if value is None else value)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
