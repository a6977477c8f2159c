"""Portfolio exports prepared in the background: requested, written by a worker,
stored, notified, downloaded from "My exports", deleted when they expire.

1. ``request_export`` (the view, on a POST) records a PENDING export with its
   filters; the view queues ``core.tasks.generate_portfolio_export`` after commit.
2. ``generate_export`` (the task) claims it with a conditional UPDATE that must
   change exactly one row (PENDING or RUNNING to RUNNING, one more attempt), writes
   the file into a temporary file, stores it (READY) and notifies the owner, in one
   transaction. Any error: FAILED with a French message, the owner notified, the
   cause in the logs; a database error is raised instead while attempts remain,
   for the task to retry (the retry claims the RUNNING row again).
3. A worker killed mid-export (out of memory, the hard time limit, a restart): the
   broker delivers the message again (acks late, reject on worker lost) and the
   claim takes the RUNNING row, as a delivery of an unacknowledged message means
   the previous one is dead (the time limit is below the broker's visibility
   timeout, which the settings check). After ``MAX_ATTEMPTS`` the export is FAILED.
4. Never stuck: an export still PENDING or RUNNING after ``STALE_AFTER`` (its
   message lost, a broker down when it was queued) is FAILED and its owner told by
   ``fail_stale_exports``, which every request, every export task and the weekly
   cleanup run.
5. ``delete_expired_exports`` (the weekly cleanup): exports past ``expires_at``
   (``PORTFOLIO_EXPORT_RETENTION_DAYS`` after they were written), with their
   notifications.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from core.models import ExportPortefeuille, NotificationTache, User
from core.selectors.portfolio import PortfolioFilters
from core.services import portfolio_export

logger = logging.getLogger(__name__)

Status = ExportPortefeuille.Status
IN_PROGRESS = (Status.PENDING, Status.RUNNING)
MAX_ATTEMPTS = 3
# Exports one person may have in preparation at once (a bound on what one user
# can make the workers do).
MAX_IN_PROGRESS_PER_USER = 3
# Beyond this, no live worker can still be writing it (the hard time limit is
# minutes): its message was lost or every attempt died.
STALE_AFTER = datetime.timedelta(hours=1)
SWEEP_BATCH = 100
TITLE_MAX = 255


def filters_to_json(filters: PortfolioFilters) -> dict[str, Any]:
    return dataclasses.asdict(filters)


def filters_from_json(data: dict[str, Any]) -> PortfolioFilters:
    """The filters recorded with an export (keys the code no longer knows are dropped)."""
    known = {field.name for field in dataclasses.fields(PortfolioFilters)}
    return PortfolioFilters(**{key: value for key, value in data.items() if key in known})


def request_export(
    *,
    owner: User,
    fmt: str,
    filters: PortfolioFilters,
    now: datetime.datetime | None = None,
) -> ExportPortefeuille | None:
    """A new PENDING export, or None if ``owner`` already has
    ``MAX_IN_PROGRESS_PER_USER`` in preparation."""
    now = now or timezone.now()
    fail_stale_exports(now=now)
    with transaction.atomic():
        # One request of a user at a time: the bound holds under double clicks.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        mine = ExportPortefeuille.objects.filter(owner=owner, status__in=IN_PROGRESS)
        if mine.count() >= MAX_IN_PROGRESS_PER_USER:
            return None
        return ExportPortefeuille.objects.create(
            owner=owner,
            format=ExportPortefeuille.Format(fmt),
            filters=filters_to_json(filters),
            business_date=timezone.localdate(now),
            expires_at=now + _retention(),
        )


def generate_export(*, export_id: int) -> dict[str, Any]:
    """Write and store one export (the task's service); its final status."""
    fail_stale_exports(now=timezone.now())
    attempt = _claim(export_id)
    if attempt is None:
        return _not_claimed(export_id)
    export = ExportPortefeuille.objects.defer("content").select_related("owner").get(pk=export_id)
    try:
        content, rows = _write(export)
    except (DatabaseError, InterfaceError):
        if attempt < MAX_ATTEMPTS:
            raise  # the task retries; its claim takes the RUNNING row again
        logger.exception("Portfolio export %s failed (attempt %s)", export_id, attempt)
        return _fail(export, attempt=attempt, error=_failure_text())
    except Exception:  # a bug, the soft time limit: the owner is told, the log says why
        logger.exception("Portfolio export %s failed (attempt %s)", export_id, attempt)
        return _fail(export, attempt=attempt, error=_failure_text())
    return _store(export, attempt=attempt, content=content, rows=rows)


def _retention() -> datetime.timedelta:
    return datetime.timedelta(days=settings.PORTFOLIO_EXPORT_RETENTION_DAYS)


def _claim(export_id: int) -> int | None:
    """The attempt number this delivery holds, or None if the export is not to run."""
    claimable = ExportPortefeuille.objects.filter(
        pk=export_id, status__in=IN_PROGRESS, attempts__lt=MAX_ATTEMPTS
    )
    attempts = claimable.values_list("attempts", flat=True).first()
    if attempts is None:
        return None
    claimed = claimable.filter(attempts=attempts).update(
        status=Status.RUNNING, attempts=attempts + 1, started_at=timezone.now()
    )
    return attempts + 1 if claimed == 1 else None


def _not_claimed(export_id: int) -> dict[str, Any]:
    """A delivery that found nothing to do: done, failed, gone, or RUNNING with
    every attempt spent (each died): then it is FAILED now."""
    export = ExportPortefeuille.objects.defer("content").filter(pk=export_id).first()
    if export is None:
        return {"status": "GONE"}
    if export.status == Status.RUNNING:
        text = _interrupted_text(export.attempts)
        return _fail(export, attempt=export.attempts, error=text)
    return {"status": export.status}


def _write(export: ExportPortefeuille) -> tuple[bytes, int]:
    """The file's bytes and its number of projects, written on disk as it goes."""
    writer = {
        ExportPortefeuille.Format.CSV: portfolio_export.write_csv,
        ExportPortefeuille.Format.XLSX: portfolio_export.write_xlsx,
    }[ExportPortefeuille.Format(export.format)]
    filters = filters_from_json(export.filters)
    with override(settings.LANGUAGE_CODE), tempfile.TemporaryFile() as out:
        rows = writer(out, today=export.business_date, filters=filters)
        out.seek(0)
        return out.read(), rows


def _store(
    export: ExportPortefeuille, *, attempt: int, content: bytes, rows: int
) -> dict[str, Any]:
    now = timezone.now()
    with transaction.atomic():
        stored = _held(export, attempt).update(
            status=Status.READY,
            content=content,
            size=len(content),
            row_count=rows,
            error="",
            finished_at=now,
            expires_at=now + _retention(),
        )
        if stored:
            export.expires_at = now + _retention()
            _notify_ready(export, rows=rows)
    return {"status": Status.READY if stored else "SUPERSEDED", "rows": rows}


def _fail(export: ExportPortefeuille, *, attempt: int, error: str) -> dict[str, Any]:
    with transaction.atomic():
        failed = _held(export, attempt).update(
            status=Status.FAILED, error=error, finished_at=timezone.now()
        )
        if failed:
            _notify_failed(export, error=error)
    return {"status": Status.FAILED if failed else "SUPERSEDED"}


def _held(export: ExportPortefeuille, attempt: int) -> Any:
    """The export as long as this attempt is the latest (a later delivery wins)."""
    return ExportPortefeuille.objects.filter(pk=export.pk, status__in=IN_PROGRESS, attempts=attempt)


def fail_stale_exports(*, now: datetime.datetime | None = None) -> int:
    """FAILED, owner told: exports waiting or being written for more than
    ``STALE_AFTER`` (a bounded batch per call; there are seldom any)."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = Q(status=Status.PENDING, created_at__lt=cutoff) | Q(
        status=Status.RUNNING, started_at__lt=cutoff
    )
    exports = list(
        ExportPortefeuille.objects.filter(stale)
        .defer("content")
        .select_related("owner")[:SWEEP_BATCH]
    )
    failed = 0
    for export in exports:
        result = _fail(export, attempt=export.attempts, error=_stale_text())
        failed += result["status"] == Status.FAILED
    return failed


def delete_expired_exports(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Delete the exports past their date, with their notifications, in batches
    (the files never loaded: only ids are read)."""
    expired = ExportPortefeuille.objects.filter(expires_at__lt=now or timezone.now())
    deleted = 0
    while ids := list(expired.values_list("id", flat=True)[:batch_size]):
        with transaction.atomic():
            NotificationTache.objects.filter(export_id__in=ids).delete()
            gone = ExportPortefeuille.objects.filter(id__in=ids).only("id").delete()[1]
            deleted += gone.get(ExportPortefeuille._meta.label, 0)
    return deleted


# The owner's notifications, in the site's language (as the events are).


def _notify_ready(export: ExportPortefeuille, *, rows: int) -> None:
    with override(settings.LANGUAGE_CODE):
        until = timezone.localtime(export.expires_at)
        values = {
            "format": export.get_format_display(),
            "count": formats.number_format(rows, force_grouping=True),
            "date": formats.date_format(until, "SHORT_DATE_FORMAT"),
        }
        message = ngettext(
            '%(format)s export of %(count)s project: download it from "My exports" until %(date)s.',
            '%(format)s export of %(count)s projects: download it from "My exports" '
            "until %(date)s.",
            rows,
        )
        title = _("Your portfolio export is ready")
        _notify(export, NotificationTache.Type.EXPORT_PRET, title, message % values)


def _notify_failed(export: ExportPortefeuille, *, error: str) -> None:
    with override(settings.LANGUAGE_CODE):
        message = f"{error} {_('You can ask for it again from the portfolio.')}"
        title = _("Your portfolio export failed")
        _notify(export, NotificationTache.Type.EXPORT_ECHOUE, title, message)


def _notify(export: ExportPortefeuille, kind: str, title: str, message: str) -> None:
    NotificationTache.objects.create(
        destinataire_id=export.owner_id,
        export_id=export.pk,
        type_notification=kind,
        titre=title[:TITLE_MAX],
        message=message,
    )


def _failure_text() -> str:
    with override(settings.LANGUAGE_CODE):
        return _(
            "The export could not be prepared. The administrators will find the cause "
            "in the application's logs."
        )


def _interrupted_text(attempts: int) -> str:
    with override(settings.LANGUAGE_CODE):
        return ngettext(
            "The export was interrupted %(count)d time (the worker writing it stopped).",
            "The export was interrupted %(count)d times (the worker writing it stopped).",
            attempts,
        ) % {"count": attempts}


def _stale_text() -> str:
    with override(settings.LANGUAGE_CODE):
        return _("The export was not prepared in time (no worker took it, or it stopped).")
