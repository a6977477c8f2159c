"""Benchmark: the real web server under load, gunicorn against runserver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_web .venv/bin/python bench/web_load.py

PostgreSQL only (a database whose name contains "bench": it is emptied, then
filled with the demo data of `manage.py seed_demo` plus 10,000 notifications for
one project lead). Then, for each server in turn: 20 signed-in clients (each its
own session and connection) ask for the dashboard, the notification centre, one of
the lead's projects and the portfolio (she has the DSI's permission), in turn, without
pause, for 30 s (after a 5 s warm-up).
Prints requests/s, p50/p95/p99 latency and errors (any answer but 200).

The load comes from wrk (Debian's `wrk`, installed here if missing): an event
loop in C that needs a few percent of one core, so the server keeps the CPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _django import ROOT, setup_django

LEAD = "sophie.lefevre"
NOTIFICATIONS = 10_000
WRK_SCRIPT = Path(__file__).with_name("web_load.lua")


@dataclass(frozen=True)
class Result:
    server: str
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int
    server_cpu_ms: float  # CPU time of the server's processes per request
    processes: int  # Python processes serving (the GIL: one core each at most)
    wrk_cpu_share: float  # the load generator's CPU, in cores


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]  # what else runs on this machine
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    wrk = ensure_wrk()
    create_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="si-web-bench-"))
    os.environ.update(SECRET_KEY="bench-web-load-secret", DATABASE_CONN_MAX_AGE="60")
    setup_django(workdir)
    paths, cookies = populate(clients=args.clients)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True
    )
    results = []
    for server in args.servers:
        results.append(measure(server, wrk=wrk, paths=paths, cookies=cookies, args=args))
    print_table(results, args, load_before=load_before)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=int, default=30, help="seconds per server")
    parser.add_argument(
        "--servers",
        nargs="+",
        default=["gunicorn", "runserver"],
        help="gunicorn (WEB_WORKERS x WEB_THREADS), gunicorn:WxT, waitress, runserver",
    )
    return parser.parse_args()


def ensure_wrk() -> str:
    if not shutil.which("wrk") and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False)
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is needed: sudo apt-get install wrk")
    return wrk


def create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    if "bench" not in name:
        sys.exit(f"Refusing to empty {name}: the database name must contain 'bench'.")
    with psycopg.connect(base.replace("postgres://", "postgresql://") + "/postgres") as conn:
        conn.autocommit = True
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def populate(*, clients: int) -> tuple[list[str], list[str]]:
    """Demo data, 10,000 notifications for the lead; her pages and sessions."""
    from django.conf import settings
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from core.models import Projet, User

    call_command("flush", interactive=False, verbosity=0)
    os.environ.setdefault("DEMO_PASSWORD", "Bench-Mot-de-passe-2026")
    call_command("seed_demo", verbosity=0)
    lead = User.objects.get(username=LEAD)
    # She also reads the portfolio (the DSI's permission): its page is one of the four.
    lead.user_permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="view_portfolio")
    )
    add_notifications(lead)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    projet = (
        Projet.objects.filter(chef_de_projet=lead)
        .annotate(n=Count("taches"))
        .order_by("-n")
        .first()
    )
    assert projet is not None
    cookies = []
    for _ in range(clients):  # one session per client, as 20 browsers would have
        client = Client()
        client.force_login(lead)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies['sessionid'].value}")
    tasks = projet.taches.count()  # type: ignore[attr-defined]
    print(f"Demo data + {NOTIFICATIONS:,} notifications for {LEAD}; project of {tasks} tasks")
    return ["/", "/notifications/", f"/projets/{projet.pk}/", "/portefeuille/"], cookies


def add_notifications(lead) -> None:
    from django.utils import timezone

    from core.models import NotificationTache, Tache

    taches = list(Tache.objects.filter(projet__chef_de_projet=lead)[:200])
    field = NotificationTache._meta.get_field("date_creation")
    field.auto_now_add = False  # months of daily alerts, spread in time
    now = timezone.now()
    types = NotificationTache.Type.values
    NotificationTache.objects.bulk_create(
        (
            NotificationTache(
                destinataire=lead,
                tache=taches[i % len(taches)],
                type_notification=types[i % 3],
                titre=f"Alerte {i}",
                message="La tâche est en retard.",
                lue=i < NOTIFICATIONS * 0.7,
                date_creation=now - datetime.timedelta(minutes=NOTIFICATIONS - i),
            )
            for i in range(NOTIFICATIONS)
        ),
        batch_size=2000,
    )
    field.auto_now_add = True


def server_command(server: str, port: int) -> tuple[list[str], str, int]:
    bind = f"127.0.0.1:{port}"
    manage = [sys.executable, "manage.py"]
    if server == "runserver":
        return [*manage, "runserver", "--noreload", bind], "runserver (threaded)", 1
    if server == "waitress":
        from django.conf import settings

        label = f"waitress ({settings.WEB_THREADS} threads)"
        return [*manage, "serve", "--server=waitress", f"--bind={bind}"], label, 1
    from django.conf import settings

    workers, threads = settings.WEB_WORKERS, settings.WEB_THREADS
    if ":" in server:
        workers, threads = (int(n) for n in server.split(":", 1)[1].split("x"))
    command = [*manage, "serve", f"--bind={bind}", f"--workers={workers}", f"--threads={threads}"]
    return command, f"gunicorn ({workers} workers x {threads} threads)", workers


def measure(
    server: str, *, wrk: str, paths: list[str], cookies: list[str], args: argparse.Namespace
) -> Result:
    port = free_port()
    command, label, processes = server_command(server, port)
    # Production keeps database connections open (deploy/si-gouvernance.env.example);
    # runserver opens a thread per request, where Django advises against it.
    conn_max_age = "0" if server == "runserver" else os.environ.get("DATABASE_CONN_MAX_AGE", "60")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ, DATABASE_CONN_MAX_AGE=conn_max_age),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, paths, cookies[0], process)
        run_wrk(wrk, base, paths, cookies, duration=5)  # warm-up: connections, caches
        cpu_before, wrk_before = cpu_seconds(process.pid), children_cpu_seconds()
        report = run_wrk(wrk, base, paths, cookies, duration=args.duration)
        server_cpu = cpu_seconds(process.pid) - cpu_before
        wrk_cpu = children_cpu_seconds() - wrk_before
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    return Result(
        server=label,
        requests_per_s=report["requests"] / report["duration_s"],
        p50_ms=report["p50_us"] / 1000,
        p95_ms=report["p95_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["errors"],
        requests=report["requests"],
        server_cpu_ms=server_cpu * 1000 / max(report["requests"], 1),
        wrk_cpu_share=wrk_cpu / report["duration_s"],
        processes=processes,
    )


def cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every process below it, the reaped ones
    included (a recycled gunicorn worker's time is in its parent's cutime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, f in stats.items() if int(f[1]) in frontier} - tree
        tree |= frontier
    total = 0
    for pid in tree & stats.keys():
        fields = stats[pid]
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == root:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
    return total / ticks


def children_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has exited
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, paths: list[str], cookie: str, process: subprocess.Popen) -> None:
    """Every page answers 200 for a signed-in client before the load starts."""
    deadline = time.monotonic() + 60
    while True:
        try:
            for path in paths:
                request = urllib.request.Request(base + path, headers={"Cookie": cookie})
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200 and response.url == base + path, response.url
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def run_wrk(wrk: str, base: str, paths: list[str], cookies: list[str], *, duration: int) -> dict:
    env = dict(os.environ, BENCH_PATHS=" ".join(paths), BENCH_COOKIES=" ".join(cookies))
    clients = str(len(cookies))
    command = [wrk, f"-t{clients}", f"-c{clients}", f"-d{duration}s", "--timeout", "10s"]
    command += ["-s", str(WRK_SCRIPT), base]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(output.rsplit("BENCH_JSON ", 1)[1])


def interpreter() -> str:
    """Which Python serves: the build matters. Debian's python3 (optimised at build
    time, what the production checklist installs) runs these pages about 15%
    faster than a plain ``./configure`` build such as pyenv's default."""
    return f"Python {platform.python_version()} from {os.path.realpath(sys.executable)}"


def print_table(results: list[Result], args: argparse.Namespace, *, load_before: float) -> None:
    print(f"\n{args.clients} clients, {args.duration} s per server, 4 pages in turn\n")
    print(f"load average before the run: {load_before:.2f} (other processes, 2 cores)")
    print(f"servers run by {interpreter()}")
    header = f"{'server':<36} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(f"{header} {'errors':>6} {'CPU ms/req':>10} {'wrk cores':>9}")
    for r in results:
        print(
            f"{r.server:<36} {r.requests_per_s:>7.1f} {r.p50_ms:>7.1f} {r.p95_ms:>7.1f} "
            f"{r.p99_ms:>7.1f} {r.errors:>6} {r.server_cpu_ms:>10.1f} {r.wrk_cpu_share:>9.2f}"
        )
    runserver = next((r for r in results if r.server.startswith("runserver")), None)
    if runserver and runserver.requests_per_s:
        for r in results:
            if r is not runserver:
                ratio = r.requests_per_s / runserver.requests_per_s
                print(
                    f"{r.server}: {ratio:.2f}x the requests/s of runserver, "
                    f"p95 {r.p95_ms:.0f} ms against {runserver.p95_ms:.0f} ms"
                )
    for r in results:
        if r.server_cpu_ms:  # what the CPU allows on an otherwise idle machine
            cores = min(r.processes, os.cpu_count() or 1)
            ceiling = cores * 1000 / r.server_cpu_ms
            print(f"{r.server}: at most ~{ceiling:.0f} req/s ({cores} core(s) when idle)")


if __name__ == "__main__":
    main()
