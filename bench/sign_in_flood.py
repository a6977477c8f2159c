"""Benchmark: a sign-in flood against gunicorn, and what one signed-in user feels.

    .venv/bin/python bench/sign_in_flood.py      # DATABASE_URL defaults to bench_flood

PostgreSQL only (a database whose name contains "bench": it is emptied, then filled
with `manage.py seed_demo`). Three phases, each on a fresh `manage.py serve`
(gunicorn, production settings, the real password hasher), each ``--duration``
seconds (20) after a 3 s warm-up:

1. no flood: one signed-in client reads the dashboard, request after request;
2. the same while 6 anonymous clients POST wrong passwords to the sign-in page
   without pause, with the per-address lockout off (AXES_IP_FAILURE_LIMIT=100000);
3. the same with the per-address lockout on (AXES_IP_FAILURE_LIMIT default, 30).

The flooders come from one address (127.0.0.2, one attacker's machine; the reader
is 127.0.0.1) and spray: a new account name on every attempt, so the lockout per
(account, address) never stops them, as with a list of names. Prints the
dashboard's median and p95, the flood's attempts and how they were answered, and
the server's CPU per flood attempt. Everything stays on the loopback and stops by
itself.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from _django import ROOT, setup_django
from web_load import LEAD, cpu_seconds, create_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_flood"
READER, ATTACKER = "127.0.0.1", "127.0.0.2"
FLOODERS = 6
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class Phase:
    name: str
    flood: bool
    ip_limit: str
    dashboard_ms: list[float] = field(default_factory=list)
    dashboard_started: list[float] = field(default_factory=list)  # from the flood's start
    flood_ms: dict[int, list[float]] = field(default_factory=dict)  # by status
    server_cpu_s: float = 0.0
    locked_after_s: float | None = None  # first 429 to a flooder, from the flood's start


def main() -> None:
    args = parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    create_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="si-flood-bench-"))
    os.environ.update(SECRET_KEY="bench-sign-in-flood-secret", DATABASE_CONN_MAX_AGE="60")
    setup_django(workdir)
    cookie = populate()
    collect = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"]
    subprocess.run(collect, cwd=ROOT, check=True)
    phases = [
        Phase("no flood", flood=False, ip_limit="30"),
        Phase("flood, per-address lockout off", flood=True, ip_limit="100000"),
        Phase("flood, per-address lockout on (30)", flood=True, ip_limit="30"),
    ]
    for phase in phases:
        run_phase(phase, cookie=cookie, duration=args.duration, workdir=workdir)
    print_table(phases, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per phase")
    return parser.parse_args()


def populate() -> str:
    """The demo data; the reader's session cookie (the lead's)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from core.models import User

    call_command("flush", interactive=False, verbosity=0)
    os.environ.setdefault("DEMO_PASSWORD", "Bench-Mot-de-passe-2026")
    call_command("seed_demo", verbosity=0)
    client = Client()
    client.force_login(User.objects.get(username=LEAD))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies['sessionid'].value}"


def run_phase(phase: Phase, *, cookie: str, duration: int, workdir: Path) -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()  # every phase starts unlocked
    log = workdir / f"gunicorn-{phase.ip_limit}-{phase.flood}.log"
    command = [sys.executable, "manage.py", "serve", "--bind=127.0.0.1:0"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ, AXES_IP_FAILURE_LIMIT=phase.ip_limit),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port = wait_for_port(log, process)
        read_dashboard(port, cookie, seconds=3)  # warm-up: both workers, caches
        stop = threading.Event()
        started = time.monotonic()
        flooders = [
            threading.Thread(target=flood, args=(port, n, stop, phase, started))
            for n in range(FLOODERS if phase.flood else 0)
        ]
        cpu_before = cpu_seconds(process.pid)
        for thread in flooders:
            thread.start()
        phase.dashboard_started, phase.dashboard_ms = read_dashboard(
            port, cookie, seconds=duration, since=started
        )
        stop.set()
        for thread in flooders:
            thread.join(timeout=60)
        phase.server_cpu_s = cpu_seconds(process.pid) - cpu_before
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def wait_for_port(log: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            sys.exit(log.read_text(errors="replace"))
        time.sleep(0.2)
    sys.exit("gunicorn did not start in 60 s:\n" + log.read_text(errors="replace"))


def read_dashboard(
    port: int, cookie: str, *, seconds: float, since: float = 0.0
) -> tuple[list[float], list[float]]:
    """The signed-in reader: the dashboard, again and again; when each read
    started (s after ``since``) and its latency (ms)."""
    starts, latencies = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        starts.append(time.monotonic() - since)
        status, elapsed = timed_request(port, READER, "GET", "/", headers={"Cookie": cookie})
        assert status == 200, f"dashboard answered {status}"
        latencies.append(elapsed)
    return starts, latencies


def flood(port: int, number: int, stop: threading.Event, phase: Phase, started: float) -> None:
    """One anonymous client: its CSRF token once, then wrong passwords, each for a
    new account name, until told to stop."""
    csrf_cookie, token = csrf(port)
    headers = {
        "Cookie": f"csrftoken={csrf_cookie}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    for attempt in itertools.count():
        if stop.is_set():
            return
        form = {"username": f"sprayed-{number}-{attempt}", "password": "faux"}
        body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token})
        status, elapsed = timed_request(
            port, ATTACKER, "POST", "/comptes/login/", headers=headers, body=body
        )
        phase.flood_ms.setdefault(status, []).append(elapsed)
        if status == 429 and phase.locked_after_s is None:
            phase.locked_after_s = time.monotonic() - started


def csrf(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(ATTACKER, 0))
    connection.request("GET", "/comptes/login/")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    connection.close()
    assert cookie and token, "no CSRF token on the sign-in page"
    return cookie.group(1), token.group(1)


def timed_request(
    port: int, source: str, method: str, path: str, *, headers: dict[str, str], body: str = ""
) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=120, source_address=(source, 0)
    )
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, (time.perf_counter() - started) * 1000


def print_table(phases: list[Phase], args: argparse.Namespace) -> None:
    from django.conf import settings

    print(
        f"\ngunicorn {settings.WEB_WORKERS} workers x {settings.WEB_THREADS} thread, "
        f"{os.cpu_count()} cores, {FLOODERS} flooders from {ATTACKER}, "
        f"{args.duration} s per phase, load before {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| phase | dashboard p50 | dashboard p95 | dashboard reads | p50 / p95 once locked "
        "| flood attempts (200 / 429) | flood p50 200 / 429 | server CPU per attempt "
        "| locked after |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for phase in phases:
        print(row(phase))


def p50_p95(latencies: list[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 20 else max(latencies)
    return statistics.median(latencies), p95


def row(phase: Phase) -> str:
    reads = phase.dashboard_ms
    p50, p95 = p50_p95(reads)
    once_locked = "-"
    if phase.locked_after_s is not None:
        after = [
            ms
            for started, ms in zip(phase.dashboard_started, reads, strict=True)
            if started >= phase.locked_after_s
        ]
        once_locked = "{:.0f} ms / {:.0f} ms".format(*p50_p95(after)) if after else "-"
    answered = sum(len(v) for v in phase.flood_ms.values())
    hashed, refused = phase.flood_ms.get(200, []), phase.flood_ms.get(429, [])
    flood_p50 = " / ".join(
        f"{statistics.median(v):.0f} ms" if v else "-" for v in (hashed, refused)
    )
    per_attempt = f"{phase.server_cpu_s * 1000 / answered:.0f} ms" if answered else "-"
    locked = f"{phase.locked_after_s:.1f} s" if phase.locked_after_s is not None else "-"
    flood = f"{answered} ({len(hashed)} / {len(refused)})" if phase.flood else "-"
    return (
        f"| {phase.name} | {p50:.0f} ms | {p95:.0f} ms | {len(reads)} | {once_locked} | "
        f"{flood} | {flood_p50 if phase.flood else '-'} | "
        f"{per_attempt if phase.flood else '-'} | {locked} |"
    )


if __name__ == "__main__":
    main()
