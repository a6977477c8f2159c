"""Shared set-up for the benchmarks: a throwaway database, never var/db.sqlite3."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(workdir: Path, **extra_env: str) -> None:
    """Point Django at a benchmark database (a temp SQLite file, or a PostgreSQL
    DATABASE_URL whose name contains "bench"), then migrate it."""
    url = os.environ.get("DATABASE_URL", "")
    if url and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit(f"Refusing to empty {url}: the database name must contain 'bench'.")
    os.environ["DATABASE_URL"] = url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(workdir),
        LOG_DIR=str(workdir),
        LOG_LEVEL="WARNING",
        **extra_env,
    )
    # The throwaway VAR_DIR has no var/secret_key: a throwaway key for a throwaway
    # environment (shared with the bench's child processes through the environment).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
