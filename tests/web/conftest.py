"""Fixtures of the web tests: the fixed world, at a pinned moment, signed in."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from core.models import User
from tests.conftest import TODAY

PARIS = ZoneInfo("Europe/Paris")
# 10:00 in Paris on TODAY (a Wednesday): the week runs Monday 23 to Sunday 29.
NOW = datetime.datetime.combine(TODAY, datetime.time(10, 0), tzinfo=PARIS)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user: User, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


# A private redis-server a test may stop (the broker-down health check).
from tests.celery.conftest import own_redis, private_redis  # noqa: E402, F401

# A real OpenLDAP (Debian's slapd) for the directory sign-in.
from tests.ldap_server import ldap_server  # noqa: E402, F401

# A real OpenID Connect provider (oidc-provider-mock) for the sign-in with it.
from tests.oidc_provider import oidc_provider  # noqa: E402, F401
