"""Benchmark: the portfolio import's time, peak Python memory and queries at two sizes.

    .venv/bin/python bench/import_portfolio.py            # SQLite, a throwaway file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import \\
        .venv/bin/python bench/import_portfolio.py

A file of N rows (CSV as Excel writes it: BOM, ``;``, JJ/MM/AAAA) over 20 projects
of 5 phases and 50 owners; per size: the first import, the same file again (no
change), then one where a tenth of the due dates are pushed back. Each sequence
runs twice from an empty portfolio: timed, then under ``tracemalloc`` (which
slows Python down) for the peak memory of the import, validation and writes.
Queries are counted by an execute wrapper (none kept in memory), per 1,000 rows.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup_django

PROJECTS, PHASES, OWNERS = 20, 5, 50
START = datetime.date(2027, 1, 4)


def write_file(path: Path, rows: int, *, slipped: bool = False) -> Path:
    header = "code_projet;projet;chef_de_projet;etape;tache;responsable;date_echeance;statut"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(header + "\r\n")
        for n in range(rows):
            p = n % PROJECTS
            due = START + datetime.timedelta(days=n % 200 + (7 if slipped and n % 10 == 0 else 0))
            out.write(
                f"b{p};Projet {p};lead{p % 4};Étape {n % PHASES};Tâche {n};"
                f"owner{n % OWNERS};{due:%d/%m/%Y};{'A_FAIRE' if n % 3 else 'EN_COURS'}\r\n"
            )
    return path


def measure(path: Path, rows: int, *, trace: bool) -> tuple[float, float, float, str]:
    from django.db import connection

    from core.services.portfolio_import import import_portfolio

    count = [0]

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        count[0] += 1
        return execute(sql, params, many, context)

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = import_portfolio(path=path, file_name=path.name, author=None, dry_run=False)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    assert result.ok, result.errors[:5]
    counts = result.counts
    changed = f"{counts.tasks_created} créées, {counts.tasks_updated} modifiées"
    return seconds, peak / 1024, count[0] * 1000 / rows, changed


def sequence(workdir: Path, rows: int, *, trace: bool) -> list[tuple[float, float, float, str]]:
    from core.models import Etape, Projet, Tache

    Tache.objects.all().delete()
    Etape.objects.all().delete()
    Projet.objects.all().delete()
    first = write_file(workdir / f"p{rows}.csv", rows)
    slipped = write_file(workdir / f"s{rows}.csv", rows, slipped=True)
    return [measure(path, rows, trace=trace) for path in (first, first, slipped)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as workdir:
        setup_django(Path(workdir))
        from django.db import connection

        from core.models import Projet, User

        Projet.objects.all().delete()  # a PostgreSQL bench database kept from a last run
        User.objects.all().delete()
        User.objects.bulk_create(
            [User(username=f"lead{n}") for n in range(4)]
            + [User(username=f"owner{n}") for n in range(OWNERS)]
        )
        print(f"\n{connection.vendor}")
        print(f"{'rows':>7}  {'run':<22}{'seconds':>9}{'peak KiB':>10}{'q/1000 rows':>13}  tasks")
        for rows in args.rows:
            timed = sequence(Path(workdir), rows, trace=False)
            traced = sequence(Path(workdir), rows, trace=True)
            for label, (seconds, _, queries, changed), (_, peak, _, _) in zip(
                ("first import", "same file again", "10 % pushed back"), timed, traced, strict=True
            ):
                print(
                    f"{rows:>7}  {label:<22}{seconds:>9.2f}{peak:>10.0f}{queries:>13.1f}  {changed}"
                )


if __name__ == "__main__":
    main()
