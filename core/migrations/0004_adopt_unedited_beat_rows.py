"""Beat rows written by the first versions, which stored no fingerprint.

A row still equal to what those versions declared was not edited by an
administrator: record its fingerprint, so the next start brings it to the code's
current default (the weekly cleanup loses its frozen ``days``; the old catch-up
entry, replaced by ``catch-up-missed-jobs``, is removed). A row that differs is
the administrator's and stays as it is.
"""

import json

from django.db import migrations

# name: (task, minute, hour, day_of_week, kwargs without "days", expire_seconds)
LEGACY = {
    "check-task-deadlines-daily": (
        "core.tasks.check_task_deadlines", "0", "8", "*", {"trigger": "BEAT"}, 3600,
    ),
    "cleanup-old-notifications": (
        "core.tasks.cleanup_old_notifications", "0", "2", "1", {"trigger": "BEAT"}, None,
    ),
    "send-daily-summary": (
        "core.tasks.send_daily_summary", "15", "8", "*", {"trigger": "BEAT"}, 3600,
    ),
    "catch-up-missed-deadline-check": (
        "core.tasks.catch_up_missed_deadline_check", "20,50", "*", "*", {}, 600,
    ),
    "send-pending-emails": ("core.tasks.send_pending_emails", "*", "*", "*", {}, 55),
}


def _unedited(row, spec) -> bool:
    task, minute, hour, day_of_week, kwargs, expire_seconds = spec
    stored = json.loads(row.kwargs or "{}")
    stored.pop("days", None)  # frozen from NOTIFICATION_RETENTION_DAYS, any value
    crontab = row.crontab
    return (
        row.enabled
        and crontab is not None
        and row.interval_id is None
        and (row.task, crontab.minute, crontab.hour, crontab.day_of_week) == (task, minute, hour, day_of_week)
        and (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
        and str(crontab.timezone) == "Europe/Paris"
        and stored == kwargs
        and row.expire_seconds == expire_seconds
        and json.loads(row.args or "[]") == []
        and not row.one_off
        and row.queue is None
        and row.expires is None
        and row.start_time is None
    )


def adopt(apps, schema_editor):
    from core.jobs.beat_rows import fingerprint

    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    BeatEntryDefault = apps.get_model("core", "BeatEntryDefault")
    for row in PeriodicTask.objects.filter(name__in=LEGACY).select_related("crontab"):
        if _unedited(row, LEGACY[row.name]):
            BeatEntryDefault.objects.get_or_create(
                name=row.name, defaults={"fingerprint": fingerprint(row)}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_job_days_and_beat_defaults"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(adopt, migrations.RunPython.noop)]
