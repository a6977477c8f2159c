"""The API against its own OpenAPI document (schemathesis): whatever valid request
each operation receives, from the lead, an owner, a stranger or the DSI, no server
error, and every answer (status, content type, body) is one the document describes.

The document is generated at import (no database then) and checked to be the one
/api/v1/schema/ serves; the requests go to the WSGI application in-process.
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.docs import schema as api_document
from tests.api.conftest import bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
application = get_wsgi_application()
DOCUMENT = api_document()
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))


@pytest.fixture
def kept_connection():
    """The WSGI application closes the database connection after each request
    (``close_old_connections``), which on PostgreSQL would end the test's
    transaction; Django's test client holds it open the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def quiet_limits(settings):
    """Many requests in seconds: neither the throttle nor the update limits are
    under test here (tests/api/test_access.py tests them)."""
    settings.API_THROTTLE_RATE = "1000000/min"
    settings.TASK_UPDATE_LIMIT = 10_000
    settings.TASK_UPDATE_DAILY_LIMIT = 100_000
    cache.clear()


def test_the_document_tested_is_the_one_served(api):
    served = bearer(api.tokens["bob"]).get("/api/v1/schema/")
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    assert DOCUMENT["info"]["title"] == "API SI-Gouvernance"


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_documented(case, api, quiet_limits, kept_connection):
    for who in ("alice", "bob", "charlie", "dora"):  # lead, owner, stranger, DSI
        headers = {"Authorization": f"Bearer {api.tokens[who]}"}
        case.call_and_validate(app=application, headers=headers, checks=CHECKS)
