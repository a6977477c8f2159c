"""Benchmark: the portfolio's first screen at 50, 500 and 5,000 projects.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python bench/portfolio_sizes.py

Run after ``bench/scale.py`` on the same database (its world: 5,000 projects).
The filtered portfolio is cut to 50 and 500 projects by moving the others to
another status, in a transaction rolled back after each size. Median of 5 reads
through Django's test client, as the DSI (a superuser), with its query count.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _django import setup_django

SIZES = (50, 500, 5000)


def main() -> None:
    setup_django(Path(tempfile.mkdtemp()))
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from core.models import Projet, User

    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": plain_static}
    with override_settings(ALLOWED_HOSTS=["*"], STORAGES=storages):
        status = Projet.objects.values_list("statut", flat=True).first()
        if status is None:
            sys.exit("No project: run bench/scale.py on this database first.")
        other = Projet.Statut.TERMINE if status != Projet.Statut.TERMINE else Projet.Statut.ARCHIVE
        admin = User.objects.filter(is_superuser=True).first()
        admin = admin or User.objects.create_superuser("bench-dsi", "dsi@bench.example.org")
        client = Client()
        client.force_login(admin)
        url = f"/portefeuille/?statut={status}"
        print(f"{'projects':>9}{'median ms':>11}{'KB':>6}{'queries':>9}")
        for size in SIZES:
            with transaction.atomic():
                rest = Projet.objects.order_by("id").values_list("id", flat=True)[size:]
                Projet.objects.filter(id__in=list(rest)).update(statut=other)
                client.get(url)  # the figures of the moved projects, as they are now
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    page = client.get(url)
                    times.append(time.perf_counter() - started)
                with CaptureQueriesContext(connection) as queries:
                    client.get(url)
                ms = statistics.median(times) * 1000
                kb = len(page.content) // 1024
                print(f"{size:>9,}{ms:>11.0f}{kb:>6}{len(queries.captured_queries):>9}")
                transaction.set_rollback(True)


if __name__ == "__main__":
    main()
