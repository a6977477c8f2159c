"""Benchmark: the whole morning run at 10k, 100k and 1M open tasks on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python bench/scale.py --tasks 10000,100000,1000000

The database's name must contain "bench": its tables are emptied and the data is
made in SQL (``bench/scale_world.py``). Per size, every step runs in a child
process of its own (``bench/scale_steps.py``) whose peak RSS is reported: the
hand-written single-scan INSERT ... SELECT beside the engine (first run, rerun),
the alert emails, the daily summary for 1,000 and 5,000 leads, the outbox sender
against the naive loop on the same emails (SMTP: aiosmtpd's Sink in a process of its
own on 127.0.0.1), the notification centre of a user with as many notifications as
there are tasks, and the pages: the portfolio and its CSV, a 10,000-task project, a
lead's dashboard.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_smtp(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
    server = subprocess.Popen([*command, "-l", f"127.0.0.1:{port}"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("The SMTP server did not start.")


def create_database(url: str) -> None:
    """Create the throwaway database if it does not exist yet."""
    import psycopg

    base, _, name = url.rpartition("/")
    dsn = base.replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_step(name: str, **options: Any) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "scale_steps.py"), name, json.dumps(options)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"Step {name} failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


@dataclass
class Table:
    tasks: int
    rows: list[tuple[str, str, float, float | None]] = field(default_factory=list)

    def add(self, label: str, figures: dict[str, Any], what: str, *, seconds: str = "") -> None:
        self.rows.append((label, what, figures[seconds or "seconds"], figures["rss_mb"]))

    def print(self) -> None:
        print(f"\n{self.tasks:,} open tasks")
        print(f"{'step':<44}{'result':<34}{'seconds':>9}{'peak RSS':>10}")
        for label, what, seconds, rss in self.rows:
            memory = "" if rss is None else f"{rss:>7.0f} MB"
            print(f"{label:<44}{what:<34}{seconds:>9.3f}{memory}")


def bench_size(tasks: int, args: argparse.Namespace, smtp_env: dict[str, str]) -> Table:
    table = Table(tasks)
    run_step("world", tasks=tasks)
    hand = run_step("handwritten")
    table.add("hand-written INSERT ... SELECT", hand, f"{hand['alerts']:,} alerts")
    rerun_what = f"{hand['rerun_alerts']:,} alerts"
    table.add("hand-written, rerun (median of 3)", hand, rerun_what, seconds="rerun_seconds")
    engine = run_step("engine")
    if engine["keys"] != hand["keys"]:
        sys.exit("The engine and the hand-written SQL created different alerts.")
    ratio = engine["seconds"] / hand["seconds"]
    table.add("engine, first run", engine, f"{engine['alerts']:,} alerts ({ratio:.2f}x hand)")
    rerun = run_step("engine_rerun")
    ratio = rerun["seconds"] / hand["rerun_seconds"]
    table.add("engine, rerun (median of 3)", rerun, f"{rerun['alerts']:,} new ({ratio:.2f}x hand)")
    emails = run_step("emails")
    largest = f"largest {emails['largest'] / 1024:.0f} KB"
    table.add("alert emails queued", emails, f"{emails['emails']:,} emails, {largest}")
    morning = engine["seconds"] + emails["seconds"]
    table.rows.append(
        ("morning run (engine + emails)", f"limit {args.soft_limit} s", morning, None)
    )
    if "summary" in args.parts:
        bench_summary(table)
    if "sender" in args.parts:
        bench_sender(table, args, smtp_env)
    if "centre" in args.parts:
        bench_centre(table, tasks)
    if "pages" in args.parts:
        bench_pages(table)
    return table


def bench_pages(table: Table) -> None:
    """Last: it adds a 10,000-task project to the world."""
    pages = run_step("pages")
    for key, label in (
        ("figures_first", "portfolio figures, first morning"),
        ("figures", "portfolio figures, a later morning"),
    ):
        what = "all projects, 7 trend days" if key == "figures_first" else "all projects, 1 day"
        table.rows.append((label, what, pages[key], None))
    for key, label, what in (
        ("portfolio", "portfolio page (first screen)", f"{pages['projects']:,} projects"),
        ("portfolio_csv", "portfolio CSV export", "every project"),
        ("portfolio_xlsx", "portfolio XLSX export", "every project"),
        ("project", "a project page", "10,000 tasks, first page"),
        ("dashboard", "its lead's dashboard", ""),
    ):
        size = f"{pages[f'{key}_bytes'] / 1024:.0f} KB"
        table.rows.append((label, f"{what}, {size}".lstrip(", "), pages[key], pages["rss_mb"]))


def bench_summary(table: Table) -> None:
    for leads in (1000, 5000):
        summary = run_step("summary", leads=leads)
        table.add(f"daily summary, {leads:,} leads", summary, f"{summary['emails']:,} emails")


def bench_sender(table: Table, args: argparse.Namespace, smtp_env: dict[str, str]) -> None:
    sender = run_step("sender", emails=args.emails, env=smtp_env)
    naive = run_step("naive", emails=args.emails, env=smtp_env)
    sender_rate = sender["emails"] / sender["seconds"]
    naive_rate = naive["emails"] / naive["seconds"]
    table.add(
        "outbox sender", sender, f"{sender_rate:.0f} emails/s ({sender_rate / naive_rate:.1f}x)"
    )
    table.add("naive loop (1 connection per email)", naive, f"{naive_rate:.0f} emails/s")


def bench_centre(table: Table, tasks: int) -> None:
    centre = run_step("notifications", count=tasks)
    for key, label in CENTRE_ROWS:
        table.rows.append((label, centre[f"{key}_what"], centre[key], centre["rss_mb"]))


CENTRE_ROWS = (
    ("page_1", "notifications, page 1"),
    ("deep_page", "notifications, deep page"),
    ("unread_deep_page", "notifications, unread, deep page"),
    ("badge", "unread badge"),
    ("mark_all_request", "mark all read: the request"),
    ("mark_all_total", "mark all read: until all are read"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="10000,100000,1000000")
    parser.add_argument("--emails", type=int, default=10_000, help="emails sent per size")
    parser.add_argument(
        "--parts",
        default="summary,sender,centre,pages",
        help="optional parts to run (comma list)",
    )
    parser.add_argument("--soft-limit", type=int, default=300, help="the daily check's (s)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in url:
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    create_database(url)
    port = free_port()
    smtp = start_smtp(port)
    smtp_env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
    }
    try:
        idle = run_step("baseline")
        print(f"PostgreSQL benchmark; an idle Django process: {idle['rss_mb']:.0f} MB")
        for tasks in (int(size) for size in args.tasks.split(",")):
            bench_size(tasks, args, smtp_env).print()
    finally:
        smtp.terminate()
        smtp.wait()


if __name__ == "__main__":
    main()
