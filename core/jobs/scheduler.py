"""Beat scheduler: django-celery-beat's database scheduler, minus its overwrite.

The stock ``DatabaseScheduler`` calls ``ModelEntry.from_entry`` for every entry of
``app.conf.beat_schedule`` at each start, and ``from_entry`` does an
``update_or_create`` (django-celery-beat 2.9, issue celery/django-celery-beat#153):
a time an administrator changed in the admin is silently put back at the next
restart of beat. Here the code only *creates* missing entries; an existing row is
the administrator's and is left alone. ``manage.py setup_periodic_tasks --reset``
is the explicit way back to the code's defaults.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from django.db import transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry


def _entry_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """``from_entry`` keyword arguments, with ``options.expires`` kept.

    ``ModelEntry._unpack_options`` only knows ``expire_seconds`` and drops
    ``expires``, so the declared "expires after 3600 s" would be lost in the table.
    """
    options = dict(entry.get("options") or {})
    expires = options.pop("expires", None)
    if isinstance(expires, int | float) and "expire_seconds" not in options:
        options["expire_seconds"] = int(expires)
    return {**entry, "options": options}


class PreservingModelEntry(ModelEntry):
    @classmethod
    def from_entry(cls, name: str, app: Celery | None = None, **entry: Any) -> PreservingModelEntry:
        existing = PeriodicTask.objects.filter(name=name).first()
        if existing is not None:
            return cls(existing, app=app)
        fields = cls._unpack_fields(**_entry_fields(entry))
        # get_or_create on the unique name: two beats starting at once create one row.
        obj, _created = PeriodicTask.objects.get_or_create(name=name, defaults=fields)
        return cls(obj, app=app)


class PreservingDatabaseScheduler(DatabaseScheduler):
    """The database scheduler that never overwrites an entry already in the table."""

    Entry = PreservingModelEntry


def install_entries(app: Celery, *, reset: bool = False) -> dict[str, str]:
    """Store the code's beat entries; return ``{name: "created" | "kept" | "reset"}``.

    Without ``reset`` existing rows are kept as the administrator left them; with
    it, every declared entry is put back to the code's definition and enabled.
    """
    outcome: dict[str, str] = {}
    for name, entry in app.conf.beat_schedule.items():
        with transaction.atomic():
            if reset:
                fields = ModelEntry._unpack_fields(**_entry_fields(entry))
                fields.update(enabled=True)
                _obj, created = PeriodicTask.objects.update_or_create(name=name, defaults=fields)
                outcome[name] = "created" if created else "reset"
            else:
                existed = PeriodicTask.objects.filter(name=name).exists()
                PreservingModelEntry.from_entry(name, app=app, **entry)
                outcome[name] = "kept" if existed else "created"
    return outcome
