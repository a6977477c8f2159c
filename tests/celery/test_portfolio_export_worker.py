"""A background portfolio export on a real prefork worker over Redis: asked for on the
page, written, notified; its pool child killed mid-export, the message comes back
and the next child finishes it (never a RUNNING row left for ever)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from core.models import ExportPortefeuille, NotificationTache
from tests.celery.conftest import wait_for
from tests.factories import PORTFOLIO, ProjetFactory, UserFactory, grant
from tests.web.conftest import client_for

pytestmark = [pytest.mark.worker, pytest.mark.redis]

Status = ExportPortefeuille.Status


def pool_children(pid: int) -> list[int]:
    """The worker's pool processes (Linux: /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def lock_projects() -> psycopg.Connection:
    """Another session holding core_projet: an export claims its row, then waits on
    its first read of the projects, mid-export, until the lock goes."""
    settings = connection.settings_dict
    lock = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    lock.execute("LOCK TABLE core_projet IN ACCESS EXCLUSIVE MODE")
    return lock


def status_of(export: ExportPortefeuille) -> tuple[str, int]:
    return tuple(ExportPortefeuille.objects.values_list("status", "attempts").get(pk=export.pk))  # type: ignore[return-value]


def test_a_worker_killed_mid_export_leaves_it_to_the_next_child(
    start_worker, redis_broker, use_broker, settings
):
    settings.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS = 1
    ProjetFactory.create_batch(3)
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    use_broker(redis_broker)
    worker = start_worker(redis_broker, pool="prefork", concurrency=1)
    lock = lock_projects()
    try:
        export = ask_for_an_export(dsi, worker=worker, lock=lock)
    finally:
        lock.close()

    wait_for(
        lambda: status_of(export)[0] == Status.READY,
        timeout=60,
        what="the export to be ready",
        workers=(worker,),
    )
    assert status_of(export) == (Status.READY, 2)  # the second delivery wrote it
    notification = NotificationTache.objects.get(export=export)
    assert notification.type_notification == NotificationTache.Type.EXPORT_PRET
    download = client_for(dsi).get(reverse("core:portfolio_export_download", args=[export.pk]))
    assert download.status_code == 200 and download.content.startswith(b"PK")  # a zip: XLSX


def ask_for_an_export(dsi, *, worker, lock) -> ExportPortefeuille:
    """The export asked for on the page, claimed, its pool child killed while it
    waits on the projects; the lock goes once a new child is there."""
    response = client_for(dsi).post(reverse("core:portfolio_export_start"), {"format": "xlsx"})
    assert response.status_code == 302
    export = ExportPortefeuille.objects.get()
    wait_for(
        lambda: status_of(export) == (Status.RUNNING, 1),
        timeout=60,
        what="the export to be claimed",
        workers=(worker,),
    )
    [child] = pool_children(worker.process.pid)
    os.kill(child, signal.SIGKILL)
    wait_for(
        lambda: pool_children(worker.process.pid) not in ([], [child]),
        timeout=60,
        what="a new pool child",
        workers=(worker,),
    )
    return export
