"""Sign-in protection: 5 failures for one account from one address lock that pair
out for 15 minutes, even with the right password; an administrator unlocks it."""

from __future__ import annotations

import datetime
import html
import logging

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.web.conftest import NOW

PASSWORD = "motdepasse-test"  # noqa: S105 (the factories' test password)
LOCKED = 429


def sign_in(username: str, password: str, *, ip: str = "192.0.2.10") -> tuple[Client, int]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response.status_code


def fail(times: int, username: str = "bob", *, ip: str = "192.0.2.10") -> list[int]:
    return [sign_in(username, "faux", ip=ip)[1] for _ in range(times)]


def test_the_sixth_attempt_is_refused_even_with_the_right_password(world, frozen, caplog):
    caplog.set_level(logging.WARNING, logger="axes")

    assert fail(5) == [200, 200, 200, 200, LOCKED]  # the 5th failure locks
    client = Client(REMOTE_ADDR="192.0.2.10")
    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})

    assert response.status_code == LOCKED
    page = response.content.decode()
    assert "Trop de tentatives de connexion" in page
    assert "15 minutes" in page
    assert client.get(reverse("core:dashboard")).status_code == 302  # not signed in
    assert "192.0.2.10" in caplog.text  # the failures are logged, with the address


def test_the_lock_holds_one_account_from_one_address_only(world, frozen):
    fail(5)
    assert sign_in("bob", PASSWORD, ip="192.0.2.10")[1] == LOCKED
    assert sign_in("bob", PASSWORD, ip="198.51.100.7")[1] == 302  # bob elsewhere
    assert sign_in("alice", PASSWORD, ip="192.0.2.10")[1] == 302  # alice at that desk


def test_a_successful_sign_in_forgets_earlier_failures(world, frozen):
    fail(4)
    assert sign_in("bob", PASSWORD)[1] == 302
    assert fail(4) == [200] * 4  # counting starts again


def test_the_lock_ends_after_the_cool_off_period(world):
    with time_machine.travel(NOW, tick=False) as traveller:
        fail(5)
        traveller.shift(datetime.timedelta(minutes=14))
        assert sign_in("bob", PASSWORD)[1] == LOCKED
        traveller.shift(datetime.timedelta(minutes=16))
        client, status = sign_in("bob", PASSWORD)
        assert status == 302
        assert client.get(reverse("core:dashboard")).status_code == 200


@pytest.mark.parametrize("limit,minutes", [(3, 5)])
def test_limit_and_period_come_from_settings(world, settings, limit, minutes):
    settings.AXES_FAILURE_LIMIT = limit
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=minutes)
    with time_machine.travel(NOW, tick=False) as traveller:
        assert fail(3) == [200, 200, LOCKED]
        traveller.shift(datetime.timedelta(minutes=minutes, seconds=1))
        assert sign_in("bob", PASSWORD)[1] == 302


def test_an_administrator_unlocks_from_the_admin(world, frozen):
    fail(5)
    admin = UserFactory(username="dsi", is_staff=True, is_superuser=True)
    staff = Client()
    staff.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")

    page = html.unescape(staff.get(changelist).content.decode())
    assert "Verrouillé jusqu'à 10:15" in page  # 10:00 + 15 minutes
    assert "Débloquer les connexions sélectionnées" in page

    from axes.models import AccessAttempt

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    done = staff.post(
        changelist, {"action": "unlock", "_selected_action": ids}, follow=True
    ).content.decode()

    assert "1 connexion débloquée" in done
    assert sign_in("bob", PASSWORD)[1] == 302
