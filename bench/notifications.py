"""Benchmark: the notification centre with 100,000 notifications for one user.

    .venv/bin/python bench/notifications.py                  # throwaway SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/si_bench .venv/bin/python bench/notifications.py

Never touches var/db.sqlite3: without DATABASE_URL it migrates a temporary SQLite
file; with DATABASE_URL (PostgreSQL) the database is created if missing, migrated,
and the benchmark's rows are deleted at the end. Prints a table of timings
(median and worst of several runs, through the real views with Django's test client).
"""

from __future__ import annotations

import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_MINE = 100_000
N_OTHERS = 20_000
UNREAD_SHARE = 0.3
REPEAT = 7
BATCH = 5_000


TMP = Path(tempfile.mkdtemp(prefix="si-bench-"))


def configure_environment() -> str:
    tmp = TMP
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "si_gouvernance.settings_test")
    os.environ["ENV_FILE"] = os.devnull
    os.environ["ALLOWED_HOSTS"] = "testserver"  # Django's test client
    os.environ["VAR_DIR"] = str(tmp / "var")
    os.environ["LOG_DIR"] = str(tmp / "logs")
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        os.environ["DATABASE_URL"] = url
    elif url.startswith(("postgres://", "postgresql://")):
        create_postgres_database(url)
    elif "var/db.sqlite3" in url:
        sys.exit("Refusing to benchmark on var/db.sqlite3: use a throwaway database.")
    return url


def create_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    dsn = base.replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def populate():
    from django.utils import timezone

    from core.models import NotificationTache, Projet, Tache, User

    stamp = int(time.time())
    me = User.objects.create(username=f"bench-{stamp}", email="bench@example.org")
    other = User.objects.create(username=f"bench-other-{stamp}", email="other@example.org")
    projet = Projet.objects.create(nom="Bench", code=f"bench-{stamp}", chef_de_projet=me)
    taches = Tache.objects.bulk_create(
        Tache(projet=projet, nom=f"Tâche {i}", responsable=me) for i in range(200)
    )
    field = NotificationTache._meta.get_field("date_creation")
    field.auto_now_add = False  # spread creation times as months of daily alerts would
    now = timezone.now()
    types = NotificationTache.Type.values
    for user, count in ((me, N_MINE), (other, N_OTHERS)):
        rows = (
            NotificationTache(
                destinataire=user,
                tache=taches[i % len(taches)],
                type_notification=types[i % 3],
                titre=f"Alerte {i}",
                message="La tâche est en retard.",
                lue=i >= count * UNREAD_SHARE,
                date_creation=now - datetime.timedelta(minutes=count - i),
            )
            for i in range(count)
        )
        batch: list[NotificationTache] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                NotificationTache.objects.bulk_create(batch)
                batch = []
        NotificationTache.objects.bulk_create(batch)
    field.auto_now_add = True
    return me, other, projet


def timed(action: Callable[[], object], *, setup: Callable[[], object] | None = None) -> list:
    samples = []
    for _ in range(REPEAT):
        if setup:
            setup()
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    url = configure_environment()
    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from core.models import NotificationTache, User
    from core.selectors.notifications import PAGE_SIZE, Cursor, unread_count

    call_command("migrate", verbosity=0)
    print(f"Database: {connection.vendor} ({url.split('@')[-1]})")
    t0 = time.perf_counter()
    me, other, projet = populate()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_notificationtache")
    print(f"Inserted {N_MINE:,} + {N_OTHERS:,} notifications in {time.perf_counter() - t0:.1f} s")

    client = Client()
    client.force_login(me)
    centre = reverse("core:notification_list")
    mine = NotificationTache.objects.filter(destinataire=me).order_by("-date_creation", "-id")
    deep_edge = mine[N_MINE - 10 * PAGE_SIZE]
    unread_edge = mine.filter(lue=False)[int(N_MINE * UNREAD_SHARE) - 5 * PAGE_SIZE]
    deep = f"{centre}?older={Cursor.of(deep_edge).token}"
    unread_deep = f"{centre}?statut=unread&older={Cursor.of(unread_edge).token}"

    def get(path: str) -> Callable[[], object]:
        def go() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        return go

    def mark_all() -> None:
        response = client.post(reverse("core:notification_read_all"))
        assert response.status_code == 302

    def reset_unread() -> None:
        # In place of the background task that marks what the request left.
        NotificationTache.objects.filter(destinataire=me, pk__in=unread_ids).update(lue=False)

    unread_ids = list(
        NotificationTache.objects.filter(destinataire=me, lue=False).values_list("pk", flat=True)
    )
    cases = [
        ("centre, page 1", timed(get(centre)), get(centre)),
        ("centre, deep page (10 pages from the end)", timed(get(deep)), get(deep)),
        ("centre, unread filter, deep page", timed(get(unread_deep)), get(unread_deep)),
        ("unread badge count", timed(lambda: unread_count(user=me)), lambda: unread_count(user=me)),
        (
            f"mark all read ({len(unread_ids):,} rows)",
            timed(mark_all, setup=reset_unread),
            mark_all,
        ),
    ]
    print()
    print(f"{'operation':<40} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
    print("-" * 71)
    for name, samples, action in cases:
        if name.startswith("mark all"):
            reset_unread()
        with CaptureQueriesContext(connection) as captured:
            action()
        print(
            f"{name:<40} {statistics.median(samples):>10.1f} {max(samples):>10.1f}"
            f" {len(captured):>8}"
        )
    print(f"\n{REPEAT} runs each; page size {PAGE_SIZE}; {N_MINE:,} notifications for one user.")

    if connection.vendor == "postgresql":
        NotificationTache.objects.filter(destinataire__in=[me, other]).delete()
        projet.delete()
        User.objects.filter(pk__in=[me.pk, other.pk]).delete()


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
