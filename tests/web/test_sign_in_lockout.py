"""Sign-in protection: 5 failures for one account from one address lock that pair
out for 15 minutes, even with the right password; an administrator unlocks it.
AXES_IP_FAILURE_LIMIT failures from one address, over any accounts, lock that
address out. The address is the proxy's header only when the peer is a trusted
proxy (TRUSTED_PROXIES)."""

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

PASSWORD = "motdepasse-test"
LOCKED = 429


def sign_in(
    username: str, password: str, *, ip: str = "192.0.2.10", real_ip: str | None = None
) -> tuple[Client, int]:
    """A sign-in from the TCP peer ``ip``, with an ``X-Real-IP`` header if given."""
    client = Client(REMOTE_ADDR=ip, **({"HTTP_X_REAL_IP": real_ip} if real_ip else {}))
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response.status_code


def fail(
    times: int, username: str = "bob", *, ip: str = "192.0.2.10", real_ip: str | None = None
) -> list[int]:
    return [sign_in(username, "faux", ip=ip, real_ip=real_ip)[1] for _ in range(times)]


@pytest.fixture
def behind_proxy(settings):
    """Production's reading: X-Real-IP, trusted from the local proxy only (default)."""
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]


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


# --- The client's address: the proxy's header from trusted proxies only ----------------


def test_a_forged_header_from_an_untrusted_peer_neither_dodges_nor_aims(
    world, frozen, behind_proxy
):
    attacker = "203.0.113.9"  # straight to the application's port, no proxy
    statuses = [sign_in("bob", "faux", ip=attacker, real_ip=f"198.51.100.{n}")[1] for n in range(5)]
    assert statuses == [200, 200, 200, 200, LOCKED]  # one address counted: the peer's
    assert sign_in("bob", PASSWORD, ip=attacker, real_ip="198.51.100.99")[1] == LOCKED

    # Aiming at a victim's address locks nothing there.
    fail(5, "alice", ip=attacker, real_ip="192.0.2.10")
    assert sign_in("alice", PASSWORD, ip="192.0.2.10")[1] == 302


def test_from_a_trusted_proxy_the_header_is_the_address(world, frozen, behind_proxy):
    assert fail(5, ip="127.0.0.1", real_ip="192.0.2.10")[-1] == LOCKED
    assert sign_in("bob", PASSWORD, ip="127.0.0.1", real_ip="192.0.2.10")[1] == LOCKED
    assert sign_in("bob", PASSWORD, ip="127.0.0.1", real_ip="198.51.100.7")[1] == 302

    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("127.0.0.1", "192.0.2.1", ["127.0.0.1"], "192.0.2.1"),
        ("203.0.113.9", "192.0.2.1", ["127.0.0.1"], "203.0.113.9"),
        ("10.4.0.2", "192.0.2.1", ["10.4.0.0/16"], "192.0.2.1"),  # a network of proxies
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", "203.0.113.9, 192.0.2.1", ["127.0.0.1"], "192.0.2.1"),  # last hop's
        ("::ffff:127.0.0.1", "192.0.2.1", ["127.0.0.1"], "192.0.2.1"),  # dual-stack socket
    ],
)
def test_the_client_address(settings, peer, header, trusted, expected):
    from core.client_ip import client_address

    settings.CLIENT_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = trusted
    assert client_address({"REMOTE_ADDR": peer, "HTTP_X_REAL_IP": header}) == expected


def test_without_a_header_setting_the_peer_is_the_address(settings):
    from core.client_ip import client_address

    settings.CLIENT_IP_HEADER = ""
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "192.0.2.1"}) == (
        "127.0.0.1"
    )


# --- Password spraying: a limit per address, over every account ---------------------


@pytest.fixture
def sixteen_accounts(world) -> list[str]:
    return [UserFactory(username=f"agent{n:02d}").username for n in range(16)]


def spray(accounts: list[str], *, rounds: int, ip: str = "192.0.2.66") -> list[int]:
    """``rounds`` wrong passwords for every account, account after account."""
    return [sign_in(name, "faux", ip=ip)[1] for _ in range(rounds) for name in accounts]


def test_spraying_locks_the_address_after_its_limit(sixteen_accounts, frozen, settings):
    settings.AXES_IP_FAILURE_LIMIT = 12

    statuses = spray(sixteen_accounts, rounds=3)  # 48 failures, 3 per account

    assert statuses == [200] * 11 + [LOCKED] * 37
    _client, status = sign_in("bob", PASSWORD, ip="192.0.2.66")  # an account never tried
    assert status == LOCKED
    client = Client(REMOTE_ADDR="192.0.2.66")
    page = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert "depuis votre adresse, pour tous les comptes" in page.content.decode()
    # The accounts themselves are not locked: from another address they sign in.
    assert sign_in("agent00", PASSWORD, ip="198.51.100.7")[1] == 302
    assert sign_in("bob", PASSWORD, ip="198.51.100.7")[1] == 302


def test_the_address_lock_ends_after_the_cool_off(sixteen_accounts, settings):
    settings.AXES_IP_FAILURE_LIMIT = 12
    with time_machine.travel(NOW, tick=False) as traveller:
        spray(sixteen_accounts, rounds=1)
        assert sign_in("bob", PASSWORD, ip="192.0.2.66")[1] == LOCKED
        traveller.shift(settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1))
        assert sign_in("bob", PASSWORD, ip="192.0.2.66")[1] == 302


def test_the_sprayer_own_good_password_does_not_wipe_the_count(sixteen_accounts, frozen, settings):
    settings.AXES_IP_FAILURE_LIMIT = 12
    assert spray(sixteen_accounts[:11], rounds=1) == [200] * 11
    assert sign_in("charlie", PASSWORD, ip="192.0.2.66")[1] == 302  # the attacker's account
    assert sign_in("agent15", "faux", ip="192.0.2.66")[1] == LOCKED  # the 12th failure


def test_a_pair_lock_does_not_spread_to_the_address(world, frozen, settings):
    settings.AXES_IP_FAILURE_LIMIT = 12
    fail(5)  # bob locked at 192.0.2.10: 5 failures, far from the address's 12
    assert sign_in("alice", PASSWORD)[1] == 302
    assert sign_in("bob", PASSWORD, ip="198.51.100.7")[1] == 302
