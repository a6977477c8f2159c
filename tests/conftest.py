"""One small fixed world, as healthchecks does: alice leads, bob and charlie work.

- alice: chef de projet of "Refonte du portail" (code ``portail``)
- bob: member of the project, owner of its tasks
- charlie: not a member (must never see or receive anything of it)

Time is pinned with time_machine; services take ``today`` explicitly.
"""

from __future__ import annotations

import datetime
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.models import Projet, User
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory

TODAY = datetime.date(2026, 11, 25)

# The audit events of starting a program (``subprocess``, ``os.system``, the
# ``os.exec*``/``spawn*`` family, ``os.fork`` as multiprocessing does it).
PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"}
)
_running: list[pytest.Item] = []

# The modules whose code under test branches on the database vendor or writes SQL
# of its own (grep core/ for ``connection.vendor``): the only ones the SQLite pass
# of ``dev.py test`` runs again (marked ``both_databases``), with what differs.
BOTH_DATABASES = {
    "tests/services/test_deadlines.py": "deadlines: INSERT ... SELECT, ::date on PostgreSQL",
    "tests/services/test_deadlines_time.py": "deadlines: dates bound per vendor",
    "tests/services/test_deadlines_scale.py": "deadlines: one INSERT or chunks, by vendor",
    "tests/services/test_deadlines_absence.py": "deadlines: absences and snoozes in the SQL",
    "tests/services/test_milestone_alerts.py": "phase and project alerts: INSERT ... SELECT",
    "tests/commands/test_check_task_deadlines.py": "the deadline engine through its command",
    "tests/emails/test_alert_emails.py": "alert emails: UPDATE ... FROM (VALUES ...), FOR UPDATE",
    "tests/emails/test_outbox.py": "outbox: claim (SKIP LOCKED), leases, cleanup",
    "tests/celery/test_tasks.py": "cleanup in batches, the daily check's task",
    "tests/celery/test_once_a_day.py": "day claims: insert-or-ignore, FOR UPDATE",
    "tests/celery/test_catch_up.py": "catch-up claims",
    "tests/web/test_notifications.py": "notifications: keyset (row comparison) pages",
    "tests/web/test_alert_policy_page.py": "a policy set on the page, then the engine's SQL",
    "tests/services/test_task_events.py": "event emails: UPDATE ... FROM (VALUES ...)",
    "tests/test_migrations.py": "migrations, forwards and back",
    "tests/services/test_open_rule_agrees.py": "the engine's SQL literals against the ORM rule",
    "tests/test_typed_text.py": "the engine's sentence pieces joined in SQL (||, CASE)",
    "tests/emails/test_typed_text_delivery.py": "the engine's SQL, then delivery",
    "tests/channels/test_channel_messages.py": "channel messages: windows, FOR UPDATE by vendor",
    "tests/channels/test_channel_delivery.py": "channel outbox: claim (SKIP LOCKED), leases",
}
ROOT = Path(__file__).resolve().parent.parent


def _refuse_unmarked_processes(event: str, args: tuple[Any, ...]) -> None:
    """The fast subset (``dev.py test --fast``) leaves out the tests marked
    ``process``: one that starts a program without the marker fails, here and in CI."""
    if event in PROCESS_EVENTS and _running and not _running[0].get_closest_marker("process"):
        raise RuntimeError(
            f"{_running[0].nodeid} starts a process ({event}): mark it @pytest.mark.process"
        )


sys.addaudithook(_refuse_unmarked_processes)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A Celery worker or Chromium is a process: ``worker`` and ``browser`` imply it.
    The modules of ``BOTH_DATABASES`` are marked ``both_databases``."""
    if missing := [name for name in BOTH_DATABASES if not (ROOT / name).is_file()]:
        raise pytest.UsageError(f"BOTH_DATABASES names missing modules: {missing}")
    for item in items:
        if item.get_closest_marker("worker") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.process)
        if item.path.relative_to(ROOT).as_posix() in BOTH_DATABASES:
            item.add_marker(pytest.mark.both_databases)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _running[:] = [item]
    try:
        return (yield)
    finally:
        _running.clear()


@pytest.fixture(autouse=True)
def _celery_join_allowed() -> None:
    """Celery's "a join would block" flag is a process global, toggled by every
    eager task; eager tasks run from the concurrency tests' threads can leave it
    set, and a later ``result.get()`` would then refuse to wait. Reset it."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The cache outlives each test's rolled-back transaction: start empty."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    projet: Projet


@pytest.fixture
def world(db: None) -> World:
    alice = UserFactory(username="alice", first_name="Alice", last_name="Martin")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Durand")
    charlie = UserFactory(username="charlie", first_name="Charlie", last_name="Petit")
    projet = ProjetFactory(nom="Refonte du portail", code="portail", chef_de_projet=alice)
    MembreProjetFactory(projet=projet, utilisateur=bob)
    return World(alice=alice, bob=bob, charlie=charlie, projet=projet)


def require_service(host: str, port: int, name: str) -> None:
    """Skip when a local service is absent on a laptop; fail in CI (CI=true)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        message = f"{name} is not reachable on {host}:{port}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    require_service("127.0.0.1", 6379, "Redis")
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def postgres_db(db: None) -> None:
    """Tests marked ``postgres`` need the PostgreSQL run (DATABASE_URL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("CI") and os.environ.get("DATABASE_URL"):
            pytest.fail("CI runs this test on PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
