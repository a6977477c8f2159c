"""Sign-in with the directory, against a real OpenLDAP (tests/ldap_server.py).

Through the sign-in form: the account is created at the first sign-in and kept in
step at every one; a wrong password is counted by the lockout; a disabled, removed
or locally deactivated account is refused; a directory that is down or hanging
gives one French message, and local accounts sign in as fast as ever.
"""

from __future__ import annotations

import time
import uuid

import ldap3
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from core import ldap_backend
from core.ldap_backend import directory_was_unavailable
from core.models import AccountSource, User
from core.services.directory_accounts import LEAD_GROUP_NAME
from tests.factories import UserFactory
from tests.ldap_server import (
    BASE,
    GROUPS,
    JEANNE,
    LEAD_GROUP,
    MARC,
    PAUL,
    STAFF_GROUP,
    LdapServer,
    Person,
    make_certificates,
    running_ldap_server,
)

pytestmark = pytest.mark.process

LOCKED = 429
LOCAL_PASSWORD = "motdepasse-local-1"
UNAVAILABLE = "L&#x27;annuaire de l&#x27;organisation ne répond pas"  # ' escaped
INVALID = "Saisissez un nom d&#x27;utilisateur et un mot de passe valides"  # ' as HTML escapes it
BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "core.ldap_backend.LDAPBackend",
]


@pytest.fixture
def directory(settings, ldap_server, db) -> LdapServer:
    """The application signs in against ``ldap_server`` (OpenLDAP's filter)."""
    use_directory(settings, ldap_server)
    return ldap_server


def use_directory(settings, server: LdapServer, **overrides: object) -> None:
    for name, value in {**server.django_settings(), **overrides}.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = BACKENDS


def sign_in(username: str, password: str) -> tuple[int, str, Client]:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code, response.content.decode(), client


def signed_in(client: Client) -> bool:
    return client.get(reverse("core:dashboard")).status_code == 200


def account(person: Person) -> User:
    return User.objects.get(username=person.uid)


@pytest.fixture
def lead_group(db) -> None:
    """« Chefs de projet » as migration 0014 leaves it: a transactional test's flush
    (tests/test_migrations.py) empties the groups of the test database."""
    group, _created = Group.objects.get_or_create(name=LEAD_GROUP_NAME)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="add_projet")
    )


def test_first_sign_in_creates_the_account_from_the_directory(directory, lead_group):
    status, _page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 302 and signed_in(client)
    jeanne = account(JEANNE)
    assert jeanne.account_source == AccountSource.LDAP
    assert jeanne.directory_id.startswith("entryUUID:")  # not the DN: it moves
    assert (jeanne.first_name, jeanne.last_name) == ("Jeanne", "Dupont")
    assert jeanne.email == JEANNE.email
    assert jeanne.is_staff and not jeanne.is_superuser
    assert jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()
    assert jeanne.has_perm("core.add_projet")  # what « Chefs de projet » grants
    # The directory's password is never stored: no local password at all.
    assert not jeanne.has_usable_password() and JEANNE.password not in jeanne.password


def test_a_person_in_no_group_is_neither_staff_nor_lead(directory):
    assert sign_in(PAUL.uid, PAUL.password)[0] == 302
    paul = account(PAUL)
    assert not paul.is_staff and not paul.groups.exists()
    assert not paul.has_perm("core.add_projet")


def test_changes_in_the_directory_reach_the_account_at_the_next_sign_in(directory):
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    directory.modify(JEANNE.dn, {"mail": [(ldap3.MODIFY_REPLACE, ["j.dupont@dsi.example.org"])]})
    directory.leave_group(JEANNE, STAFF_GROUP)
    directory.leave_group(JEANNE, LEAD_GROUP)

    status, _page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 302 and signed_in(client)
    jeanne = account(JEANNE)
    assert jeanne.email == "j.dupont@dsi.example.org"
    assert not jeanne.is_staff  # out of the staff group: no more admin
    assert not jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()
    assert User.objects.filter(username=JEANNE.uid).count() == 1


def test_a_person_renamed_in_active_directory_keeps_their_account(settings, directory):
    """sAMAccountName changes, the entry (its DN) stays: the same account, renamed."""
    settings.LDAP_USER_FILTER = "(sAMAccountName=%(user)s)"
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    first = account(JEANNE)
    directory.modify(JEANNE.dn, {"sAMAccountName": [(ldap3.MODIFY_REPLACE, ["jmartin"])]})

    assert sign_in("JMartin", JEANNE.password)[0] == 302

    renamed = User.objects.get(pk=first.pk)
    assert renamed.username == "jmartin"
    assert User.objects.filter(account_source=AccountSource.LDAP).count() == 1


def test_a_person_moved_to_another_ou_keeps_their_account(settings, directory):
    """A change of department moves the entry (its DN changes); the account is
    named by the entry's entryUUID (objectGUID on AD), so it follows."""
    settings.LDAP_USER_SEARCH_BASE = BASE
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    first = account(JEANNE)
    assert first.directory_id.startswith("entryUUID:")
    directory.move(JEANNE.dn, f"ou=services,{BASE}")

    status, _page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 302 and signed_in(client)
    assert account(JEANNE).pk == first.pk
    assert User.objects.filter(account_source=AccountSource.LDAP).count() == 1


def test_groups_are_found_by_the_group_search_without_member_of(directory):
    """OpenLDAP without the memberof overlay: only the groups' ``member`` tells."""
    directory.modify(JEANNE.dn, {"memberOf": [(ldap3.MODIFY_DELETE, [])]})
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    jeanne = account(JEANNE)
    assert jeanne.is_staff and jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()


def test_active_directory_filter_member_of_and_disabled_accounts(settings, ldap_server, db):
    """AD's way: the default filter on sAMAccountName, groups from memberOf (the
    group's DN written as AD's tools show it: capitals, spaces), the disabled flag
    of userAccountControl (514) refusing the right password."""
    use_directory(
        settings,
        ldap_server,
        LDAP_USER_FILTER="(sAMAccountName=%(user)s)",
        LDAP_GROUP_SEARCH_BASE="",
        LDAP_STAFF_GROUP_DN=STAFF_GROUP.upper().replace(",", ", "),
    )
    assert sign_in(JEANNE.uid.upper(), JEANNE.password)[0] == 302
    jeanne = account(JEANNE)  # named as the directory spells it, not as typed
    assert jeanne.is_staff and jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()

    status, page, client = sign_in(MARC.uid, MARC.password)
    assert status == 200 and INVALID in page and not signed_in(client)
    assert not User.objects.filter(username=MARC.uid).exists()


def test_a_wrong_directory_password_is_refused_and_counted_by_the_lockout(directory, settings):
    attempts = [sign_in(JEANNE.uid, "pas-le-bon") for _ in range(settings.AXES_FAILURE_LIMIT)]

    assert [status for status, _page, _client in attempts[:-1]] == [200] * (len(attempts) - 1)
    assert INVALID in attempts[0][1]
    assert attempts[-1][0] == LOCKED  # the last failure locks
    status, _page, client = sign_in(JEANNE.uid, JEANNE.password)
    assert status == LOCKED and not signed_in(client)  # even the right password


def test_changing_the_case_of_the_name_does_not_escape_the_lockout(directory, settings):
    """The directory ignores case: so does the count (else 5 tries per spelling)."""
    spellings = ["jdupont", "JDupont", "jDupont ", "JDUPONT", "jdupoNT", "Jdupont"]
    statuses = [sign_in(name, "pas-le-bon")[0] for name in spellings[: settings.AXES_FAILURE_LIMIT]]
    assert statuses[-1] == LOCKED
    assert sign_in(spellings[-1], JEANNE.password)[0] == LOCKED


def test_an_unknown_user_and_a_filter_wildcard_are_refused(directory):
    for username in ("inconnu", "jdupon*", "*"):
        status, page, client = sign_in(username, JEANNE.password)
        assert status == 200 and INVALID in page and not signed_in(client), username
    assert not User.objects.filter(account_source=AccountSource.LDAP).exists()


def test_an_empty_password_is_not_an_anonymous_bind(directory, rf):
    """Refused before the directory is asked (an empty simple bind is anonymous)."""
    request = rf.post("/")
    assert authenticate(request, username=JEANNE.uid, password="") is None
    assert not directory_was_unavailable(request)


def test_a_person_locked_in_the_directory_can_no_longer_sign_in(directory):
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    directory.lock(JEANNE)

    status, page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 200 and INVALID in page and not signed_in(client)


def test_a_person_removed_from_the_directory_can_no_longer_sign_in(directory):
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    directory.delete(JEANNE.dn)

    status, page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 200 and INVALID in page and not signed_in(client)


def test_an_account_deactivated_locally_stays_refused(directory):
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    User.objects.filter(username=JEANNE.uid).update(is_active=False)

    status, _page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 200 and not signed_in(client)
    assert not account(JEANNE).is_active


def test_a_local_account_of_the_same_name_is_linked_but_not_a_superuser(directory):
    paul = UserFactory(username=PAUL.uid, password=LOCAL_PASSWORD)
    UserFactory(username=JEANNE.uid, password=LOCAL_PASSWORD, is_superuser=True, is_staff=True)

    assert sign_in(PAUL.uid, PAUL.password)[0] == 302
    linked = account(PAUL)
    assert linked.pk == paul.pk and linked.account_source == AccountSource.LDAP
    assert sign_in(PAUL.uid, LOCAL_PASSWORD)[0] == 200  # the old password no longer opens it

    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 200  # no takeover of a superuser
    assert account(JEANNE).account_source == AccountSource.LOCAL
    assert sign_in(JEANNE.uid, LOCAL_PASSWORD)[0] == 302  # who keeps their own password


def timed_sign_in(username: str, password: str) -> tuple[int, str, float]:
    started = time.monotonic()
    status, page, _client = sign_in(username, password)
    return status, page, time.monotonic() - started


def test_directory_down_one_french_message_and_local_accounts_still_sign_in(directory):
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302
    UserFactory(username="bob", password=LOCAL_PASSWORD)
    directory.stop()

    status, page, _seconds = timed_sign_in(JEANNE.uid, JEANNE.password)
    assert status == 200 and page.count(UNAVAILABLE) == 1 and INVALID not in page

    status, _page, seconds = timed_sign_in("bob", LOCAL_PASSWORD)
    assert status == 302 and seconds < 1


def test_the_admin_s_sign_in_says_it_too(directory):
    directory.stop()
    response = Client().post(
        reverse("admin:login"), {"username": JEANNE.uid, "password": JEANNE.password}
    )
    assert response.status_code == 200 and UNAVAILABLE in response.content.decode()


def test_directory_hanging_the_message_comes_within_the_timeout(settings, directory):
    settings.LDAP_TIMEOUT = 1
    UserFactory(username="bob", password=LOCAL_PASSWORD)
    with directory.paused():
        status, page, seconds = timed_sign_in(JEANNE.uid, JEANNE.password)
        assert status == 200 and UNAVAILABLE in page
        assert seconds < 3 * settings.LDAP_TIMEOUT  # not the kernel's TCP timeout

        status, _page, seconds = timed_sign_in("bob", LOCAL_PASSWORD)
        assert status == 302 and seconds < 1  # the local account never waits


@pytest.fixture
def tls_directory(settings, tmp_path, db, request):
    """slapd with a certificate for 127.0.0.1 (or for ``request.param``'s names)."""
    names = getattr(request, "param", "IP:127.0.0.1,DNS:localhost")
    certificates = make_certificates(tmp_path / "certificates", names=names)
    with running_ldap_server(tmp_path / "ldap", certificates) as server:
        use_directory(settings, server, LDAP_CA_FILE=str(certificates.ca))
        yield server


def test_start_tls_with_the_directory_s_ca(settings, tls_directory):
    settings.LDAP_START_TLS = True
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302


def test_ldaps_with_the_directory_s_ca(settings, tls_directory):
    settings.LDAP_SERVER_URI = tls_directory.ldaps_uri
    assert sign_in(JEANNE.uid, JEANNE.password)[0] == 302


@pytest.mark.parametrize("uri", ["ldap", "ldaps"])
def test_a_certificate_of_another_ca_is_refused(settings, tls_directory, tmp_path, uri):
    settings.LDAP_CA_FILE = str(make_certificates(tmp_path / "other", "other-ca").ca)
    if uri == "ldaps":
        settings.LDAP_SERVER_URI = tls_directory.ldaps_uri
    else:
        settings.LDAP_START_TLS = True

    status, page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 200 and UNAVAILABLE in page and not signed_in(client)


def test_without_a_server_uri_the_backend_does_nothing(settings, db, rf):
    settings.LDAP_SERVER_URI = ""
    settings.LDAP_USER_SEARCH_BASE = GROUPS
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    assert authenticate(rf.post("/"), username=JEANNE.uid, password=JEANNE.password) is None


@pytest.mark.parametrize("tls_directory", ["DNS:annuaire.example.org"], indirect=True)
@pytest.mark.parametrize("uri", ["ldap", "ldaps"])
def test_a_certificate_for_another_host_is_refused(settings, tls_directory, uri):
    """Signed by the right CA, but for another name than the address dialled."""
    if uri == "ldaps":
        settings.LDAP_SERVER_URI = tls_directory.ldaps_uri
    else:
        settings.LDAP_START_TLS = True

    status, page, client = sign_in(JEANNE.uid, JEANNE.password)

    assert status == 200 and UNAVAILABLE in page and not signed_in(client)


def test_active_directory_s_object_guid_names_the_entry():
    """AD has no entryUUID: its objectGUID, 16 bytes little-endian, written as
    AD's tools show it; a directory with neither falls back to the DN."""
    guid = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    entry = {"dn": "CN=Jeanne,OU=DSI,DC=ad", "attributes": {}}

    with_guid = {**entry, "raw_attributes": {"objectGUID": [guid.bytes_le]}}
    assert ldap_backend._permanent_id(with_guid) == f"objectGUID:{guid}"
    assert ldap_backend._permanent_id(entry) == "CN=Jeanne,OU=DSI,DC=ad"
