"""Benchmark: the deadline engine's time and peak Python memory at two sizes 10x apart.

    .venv/bin/python bench/deadlines_memory.py            # SQLite, a throwaway file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_a \
        .venv/bin/python bench/deadlines_memory.py

The world of bench/deadlines.py (its policy mix, calendar, absences and snoozes)
at 10,000 then 100,000 tasks; one engine run each after a warm-up. Peak memory is
``tracemalloc``'s: flat means no row of the growing tables travels to Python.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deadlines-memory-") as workdir:
        setup_django(Path(workdir))
        import deadlines as world

        from core.models import NotificationTache
        from core.services.deadlines import create_deadline_alerts

        print(f"\n{'tasks':>8}{'alerts':>9}{'seconds':>10}{'peak KiB':>10}")
        for tasks in args.tasks:
            world.build_world(tasks)
            create_deadline_alerts(today=world.TODAY, dry_run=True)  # warm-up
            NotificationTache.objects.all().delete()
            tracemalloc.start()
            started = time.perf_counter()
            result = create_deadline_alerts(today=world.TODAY)
            seconds = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{tasks:>8}{result.total_created:>9}{seconds:>10.2f}{peak / 1024:>10.0f}")


if __name__ == "__main__":
    main()
