"""What health said during a scenario of bench/faults.py.

Run as a script (by ``HealthWatch``), it reads the application's health as
``GET /health/`` does (``core.selectors.health.system_health``, a connection
opened and closed per reading as a request does) every second, in a process of
its own configured as the services are (their database URL, through the stage's
proxy; their broker), and writes one line per reading to its log: the time
(``time.monotonic()``: the system's clock, the same in every process) and the
failing components, ``-`` when all are ok. While the database is unreachable,
the components read from it say "unknown": only the database (and the broker)
are counted then.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

INTERVAL_S = 1.0


@dataclass(frozen=True)
class Reading:
    at: float  # time.monotonic()
    red: tuple[str, ...]  # the failing components, in the report's order


@dataclass(frozen=True)
class HealthSeen:
    """Health over one scenario, from its fault to the end of its watch."""

    first_red: dict[str, float]  # component -> seconds after the fault it first failed
    green_again_s: float | None  # after the service's return (negative: before it)
    still_red: bool

    @property
    def red(self) -> str:
        if not self.first_red:
            return "never"
        return ", ".join(f"{name} +{s:.0f}" for name, s in self.first_red.items())

    @property
    def after_back(self) -> str:
        if not self.first_red:
            return "-"
        if self.still_red:
            return "still red"
        assert self.green_again_s is not None
        if self.green_again_s <= -INTERVAL_S:  # before the service was back
            return f"green {-self.green_again_s:.0f} s early"
        return f"{max(self.green_again_s, 0):.0f} s"


def seen(readings: list[Reading], *, fault: float, returned: float, end: float) -> HealthSeen:
    """From the readings between ``fault`` and ``end``: which components failed and
    when first, and when health turned green for good, relative to ``returned``."""
    window = [r for r in readings if fault <= r.at <= end]
    first_red: dict[str, float] = {}
    for reading in window:
        for name in reading.red:
            first_red.setdefault(name, reading.at - fault)
    red_at = [i for i, reading in enumerate(window) if reading.red]
    if not red_at:
        return HealthSeen({}, None, still_red=False)
    after_last_red = window[red_at[-1] + 1 :]
    if not after_last_red:
        return HealthSeen(first_red, None, still_red=True)
    return HealthSeen(first_red, after_last_red[0].at - returned, still_red=False)


def read_log(log: Path) -> list[Reading]:
    readings = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        at, _, red = line.partition(" ")
        try:
            moment = float(at)
        except ValueError:
            continue  # a warning of the process's own, not a reading
        readings.append(Reading(moment, tuple(red.split()) if red != "-" else ()))
    return readings


def watch() -> None:
    """Read health every ``INTERVAL_S``, forever (the bench kills this process)."""
    import django

    django.setup()
    from django.db import close_old_connections

    from core.jobs import registry
    from core.selectors.health import system_health

    while True:
        started = time.monotonic()
        close_old_connections()  # as a request starts
        try:
            health = system_health(daily_check=registry.CHECK_TASK_DEADLINES)
            red = [name for name, c in health.components.items() if not c.ok]
            if not health.database.ok:  # the others are "unknown", not seen failing
                red = [name for name in red if name in ("database", "broker")]
        except Exception as exc:  # /health/ would answer 500
            red = [f"error:{type(exc).__name__}"]
        close_old_connections()  # as a request ends
        print(f"{started:.2f} {' '.join(red) or '-'}", flush=True)
        time.sleep(max(0.0, INTERVAL_S - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    watch()
