"""The deployment tests start real servers against the test PostgreSQL database."""

from tests.celery.conftest import worker_database  # noqa: F401
