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
from dataclasses import dataclass

import pytest

from core.models import Projet, User
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory

TODAY = datetime.date(2026, 11, 25)


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
