"""The calendar feed at scale: the same number of queries and a bounded answer
however big the organisation, for an ordinary user and for the lead of a project
with 10,000 open tasks (the feed stops at MAX_TASKS events).

    DATABASE_URL=postgres://.../ics_bench python bench/calendar_feed.py --tasks 10000,100000,1000000

PostgreSQL only (the organisation is made in SQL, bench/scale_world.py).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _django import setup_django

REPEAT = 5
BIG_PROJECT_TASKS = 10_000


def _big_project(today: datetime.date) -> None:
    from scale_world import execute, scalar

    projet = int(str(scalar("SELECT min(id) FROM core_projet")))
    execute(
        "INSERT INTO core_tache (projet_id, nom, description, responsable_id, statut, "
        "priorite, date_echeance, avancement, date_creation, date_modification, report_motif) "
        "SELECT %s, 'Grande tâche ' || j, '', NULL, 'A_FAIRE', 'NORMALE', "
        "%s::date + (j %% 300 - 30), 0, now(), now(), '' FROM generate_series(1, %s) j",
        [projet, today, BIG_PROJECT_TASKS],
    )
    execute("ANALYZE core_tache")


def _measure(username: str) -> dict[str, object]:
    from django.test.utils import override_settings

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        return _reads(username)


def _reads(username: str) -> dict[str, object]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import User
    from core.services.calendar_feeds import regenerate_feed

    user = User.objects.get(username=username)
    path = f"/calendrier/{regenerate_feed(user=user).value}.ics"
    client = Client()
    runs = []
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            runs.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return {
        "queries": len(queries),
        "events": response.content.count(b"BEGIN:VEVENT"),
        "kB": round(len(response.content) / 1024),
        "median ms": round(statistics.median(runs) * 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="10000,100000,1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir), SITE_URL="https://gouvernance.example.org")
        from django.db import connection
        from django.utils import timezone
        from scale_world import build

        if connection.vendor != "postgresql":
            sys.exit("PostgreSQL only: set DATABASE_URL to a database named *bench*.")
        today = timezone.localdate()
        print("| tasks | user | events | queries | kB | median ms |")
        print("| ---: | --- | ---: | ---: | ---: | ---: |")
        for tasks in [int(n) for n in args.tasks.split(",")]:
            build(tasks=tasks, today=today)
            _big_project(today)
            for username, who in [("u2", "member of 4, lead of 1"), ("u1", "lead, 10k tasks")]:
                row = _measure(username)
                print(
                    f"| {tasks:,} | {who} | {row['events']} | {row['queries']} | "
                    f"{row['kB']} | {row['median ms']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
