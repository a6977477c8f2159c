"""Benchmark: email delivery and the daily summary's query count.

    .venv/bin/python bench/emails.py [--emails 500] [--leads 1000] [--projects 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_c .venv/bin/python bench/emails.py

1. ``--emails`` emails to a local SMTP server (aiosmtpd, in this process): the
   outbox sender (one SMTP connection kept open across its batches of 100; once
   as one call, once as two calls in two processes, as a worker runs the senders
   of a burst) against a naive loop calling ``send_mail`` once per email (one connection each).
2. ``send_daily_summary`` for a small and a large number of leads, each leading
   ``--projects`` projects: a fixed number of SQL queries per chunk of 200 leads.

Runs in a throwaway SQLite file (or in the PostgreSQL database named by
DATABASE_URL, whose name must contain "bench": its tables are emptied), never in
var/db.sqlite3.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from typing import Any

from _django import setup_django

TODAY = datetime.date(2026, 11, 25)


class CountingHandler:
    """Counts accepted messages and distinct SMTP connections (client ports)."""

    def __init__(self, connect_ms: float = 0.0) -> None:
        self.connect_s = connect_ms / 1000
        self.messages = 0
        self.peers: set[Any] = set()
        self.lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # Once per connection: models a remote server's handshake (TLS, latency).
        if self.connect_s:
            await asyncio.sleep(self.connect_s)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages += 1
            self.peers.add(session.peer)
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.messages = 0
            self.peers = set()


class SmtpServerProcess:
    """The local SMTP server (aiosmtpd, a ``CountingHandler``) in a process of its
    own, as a real local server is: it takes neither the GIL nor the core of the
    sender it measures. Read like the handler: ``reset()``, ``messages``, ``peers``."""

    def __init__(self, connect_ms: float) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no copy of this process's state
        self.port = free_port()
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.port, connect_ms))
        self.process.start()
        assert self.pipe.recv() == "ready"

    def _ask(self, command: str) -> Any:
        self.pipe.send(command)
        return self.pipe.recv()

    def reset(self) -> None:
        self._ask("reset")

    @property
    def messages(self) -> int:
        return int(self._ask("messages"))

    @property
    def peers(self) -> set[Any]:
        return set(self._ask("peers"))

    def stop(self) -> None:
        self._ask("stop")
        self.process.join(timeout=10)


def _serve(pipe: Any, port: int, connect_ms: float) -> None:
    from aiosmtpd.controller import Controller

    handler = CountingHandler(connect_ms=connect_ms)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    answers = {
        "reset": lambda: handler.reset(),
        "messages": lambda: handler.messages,
        "peers": lambda: sorted(handler.peers),
    }
    while (command := pipe.recv()) != "stop":
        pipe.send(answers[command]())
    controller.stop()
    pipe.send("stopped")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup_django_smtp(workdir: Path, smtp_port: int) -> None:
    """Point Django at a benchmark database and the local SMTP server."""
    setup_django(
        workdir,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        # Dispatching the sender after commit must not reach a real broker here.
        CELERY_BROKER_URL="memory://localhost/",
        CELERY_TASK_ALWAYS_EAGER="false",
    )


def clear_tables() -> None:
    from core.models import NotificationTache, OutboundEmail, Projet, Tache, User

    for model in (OutboundEmail, NotificationTache, Tache, Projet, User):
        model.objects.all().delete()


def sample_email() -> tuple[str, str, str]:
    text = "Bonjour,\n\n" + "Tâche en retard : migration LDAP.\n" * 20
    html = "<p>Bonjour,</p>" + "<p>Tâche en retard : <b>migration LDAP</b>.</p>" * 20
    return "Synthèse quotidienne", text, html


def bench_outbox(count: int, handler: Any) -> tuple[float, int, int]:
    from core.models import OutboundEmail
    from core.services.outbox import send_pending

    subject, text, html = sample_email()
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            to_address=f"user{i}@dsi.example.org", subject=subject, body_text=text, body_html=html
        )
        for i in range(count)
    )
    handler.reset()
    started = time.perf_counter()
    result = send_pending(batch_size=100, max_batches=count)
    elapsed = time.perf_counter() - started
    assert result.sent == count, result
    return elapsed, handler.messages, len(handler.peers)


def bench_outbox_parallel(count: int, handler: Any, senders: int) -> tuple[float, int, int]:
    """``senders`` sending calls at once, each in a process of its own, as a worker
    with that many processes runs the sender tasks a burst of emails starts."""
    import multiprocessing

    from django.db import connections

    from core.models import OutboundEmail

    subject, text, html = sample_email()
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            to_address=f"user{i}@dsi.example.org", subject=subject, body_text=text, body_html=html
        )
        for i in range(count)
    )
    connections.close_all()  # each process opens its own
    handler.reset()
    processes = [
        multiprocessing.get_context("fork").Process(target=_send_all, args=(count,))
        for _ in range(senders)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    sent = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count()
    assert sent == count and handler.messages == count, (sent, handler.messages)
    OutboundEmail.objects.all().delete()
    return elapsed, handler.messages, len(handler.peers)


def _send_all(count: int) -> None:
    from django.db import connections

    from core.services.outbox import send_pending

    send_pending(batch_size=100, max_batches=count)
    connections.close_all()


def bench_naive(count: int, handler: Any) -> tuple[float, int, int]:
    from django.core.mail import send_mail

    subject, text, html = sample_email()
    handler.reset()
    started = time.perf_counter()
    for i in range(count):
        send_mail(subject, text, None, [f"user{i}@dsi.example.org"], html_message=html)
    elapsed = time.perf_counter() - started
    return elapsed, handler.messages, len(handler.peers)


def build_leads(leads: int, projects_each: int) -> None:
    """``leads`` leads with ``projects_each`` projects, 3 tasks each (late, soon, far)."""
    from core.models import Projet, Tache, User

    clear_tables()
    users = User.objects.bulk_create(
        User(username=f"lead{i}", email=f"lead{i}@dsi.example.org", password="!")
        for i in range(leads)
    )
    projets = Projet.objects.bulk_create(
        (
            Projet(nom=f"Projet {u.pk}-{j}", code=f"p{u.pk}-{j}", chef_de_projet=u)
            for u in users
            for j in range(projects_each)
        ),
        batch_size=2000,
    )
    day = datetime.timedelta(days=1)
    Tache.objects.bulk_create(
        (
            Tache(projet=p, nom=f"Tâche {k}", date_echeance=TODAY + offset * day)
            for p in projets
            for k, offset in enumerate((-2, 3, 40))
        ),
        batch_size=5000,
    )


def bench_summary(leads: int, projects_each: int) -> tuple[int, int, int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.services.summary import send_daily_summary

    build_leads(leads, projects_each)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = send_daily_summary(today=TODAY)
    elapsed = time.perf_counter() - started
    assert result.queued == leads, result.as_dict()
    inserts = sum(1 for q in queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return result.queued, len(queries) - inserts, inserts, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument(
        "--connect-ms",
        type=float,
        default=0.0,
        help="extra delay per SMTP connection, as a remote server with TLS would add",
    )
    args = parser.parse_args()

    server = SmtpServerProcess(connect_ms=args.connect_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-emails-") as tmp:
            setup_django_smtp(Path(tmp), server.port)
            clear_tables()
            run(args, server)
    finally:
        server.stop()


def run(args: argparse.Namespace, handler: Any) -> None:
    from django.db import connection

    delay = f", +{args.connect_ms:g} ms per connection" if args.connect_ms else ""
    print(f"Database: {connection.vendor}; SMTP: aiosmtpd on 127.0.0.1, its own process{delay}\n")
    outbox_s, outbox_msgs, outbox_conns = bench_outbox(args.emails, handler)
    clear_tables()
    rows = [("outbox sender (one call)", outbox_s, outbox_msgs, outbox_conns)]
    if hasattr(os, "fork"):
        parallel = bench_outbox_parallel(args.emails, handler, senders=2)
        rows.append(("outbox sender (2 calls, 2 processes)", *parallel))
    naive_s, naive_msgs, naive_conns = bench_naive(args.emails, handler)
    rows.append(("naive send_mail loop (1 per email)", naive_s, naive_msgs, naive_conns))
    print(
        f"{'delivery of ' + str(args.emails) + ' emails':<40}{'seconds':>9}{'emails/s':>10}"
        f"{'SMTP connections':>18}"
    )
    for label, seconds, msgs, conns in rows:
        print(f"{label:<40}{seconds:>9.2f}{msgs / seconds:>10.0f}{conns:>18}")
    for label, seconds, _msgs, _conns in rows[:-1]:
        print(
            f"{'ratio ' + label.removeprefix('outbox sender ') + ' / naive':<40}"
            f"{'':>9}{naive_s / seconds:>9.1f}x"
        )
    print()

    small = max(1, args.leads // 10)
    print(
        f"{'send_daily_summary':<40}{'emails':>9}{'other queries':>15}"
        f"{'insert batches':>16}{'seconds':>10}"
    )
    for leads in (small, args.leads):
        queued, others, inserts, seconds = bench_summary(leads, args.projects)
        label = f"{leads} leads x {args.projects} projects"
        print(f"{label:<40}{queued:>9}{others:>15}{inserts:>16}{seconds:>10.2f}")
    print("(insert batches: one multi-row INSERT per batch of rows the database accepts)")


if __name__ == "__main__":
    main()
