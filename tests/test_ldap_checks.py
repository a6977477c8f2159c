"""`manage.py check` says, one line each, what keeps directory sign-in from working;
with LDAP_SERVER_URI unset it says nothing of the directory, and the backend does
nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.processes import manage_py

GOOD = {
    "LDAP_SERVER_URI": "ldap://annuaire.example.org",
    "LDAP_BIND_DN": "cn=si-gouvernance,ou=Services,dc=example,dc=org",
    "LDAP_BIND_PASSWORD": "secret",
    "LDAP_USER_SEARCH_BASE": "ou=Utilisateurs,dc=example,dc=org",
    "LDAP_USER_FILTER": "(sAMAccountName=%(user)s)",
    "LDAP_GROUP_SEARCH_BASE": "ou=Groupes,dc=example,dc=org",
    # Spaces after the commas, as people copy them from AD's tools: still a DN.
    "LDAP_STAFF_GROUP_DN": "CN=DSI Admins, OU=Groupes, DC=example, DC=org",
    "LDAP_LEAD_GROUP_DN": "cn=Chefs de projet,ou=Groupes,dc=example,dc=org",
    "LDAP_START_TLS": True,
    "LDAP_CA_FILE": "",
    "SECURE": False,
}


def check(settings, **overrides: object) -> list[str]:
    """The lines of `manage.py check` that speak of the directory."""
    for name, value in {**GOOD, **overrides}.items():
        setattr(settings, name, value)
    out = StringIO()
    try:
        call_command("check", "--fail-level", "WARNING", stdout=out, stderr=out)
    except SystemCheckError as error:
        out.write(str(error))
    return [line for line in out.getvalue().splitlines() if "core.E1" in line or "core.W1" in line]


def test_a_configuration_that_works_passes(settings, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert check(settings, SECURE=True, LDAP_CA_FILE=str(ca)) == []


@pytest.mark.parametrize("bind", ["svc-gouvernance@example.org", "EXEMPLE\\svc-gouvernance"])
def test_active_directory_s_other_bind_names_pass(settings, bind):
    assert check(settings, LDAP_BIND_DN=bind) == []


def test_nothing_is_said_while_directory_sign_in_is_off(settings):
    assert check(settings, LDAP_SERVER_URI="", LDAP_USER_SEARCH_BASE="", LDAP_BIND_DN="x") == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"LDAP_USER_SEARCH_BASE": ""}, "core.E101"),
        ({"LDAP_SERVER_URI": "ldapi:///var/run/slapd.sock"}, "core.E108"),
        ({"LDAP_SERVER_URI": "ldap://"}, "core.E108"),
        ({"LDAP_BIND_PASSWORD": ""}, "core.E102"),
        ({"LDAP_LEAD_GROUP_DN": "Chefs de projet"}, "core.E103"),
        ({"LDAP_BIND_DN": "cn=si-gouvernance;dc=example"}, "core.E103"),
        ({"LDAP_USER_FILTER": "(uid=%(username)s)"}, "core.E104"),
        ({"LDAP_CA_FILE": "/nulle/part/ca.pem"}, "core.E105"),
        ({"LDAP_SERVER_URI": "ldaps://annuaire.example.org"}, "core.E106"),
        ({"SECURE": True}, "core.E107"),
        (
            {
                "SECURE": True,
                "LDAP_SERVER_URI": "ldaps://annuaire.example.org",
                "LDAP_START_TLS": False,
            },
            "core.E107",
        ),
        ({"SECURE": True, "LDAP_START_TLS": False, "LDAP_CA_FILE": __file__}, "core.W101"),
    ],
)
def test_each_fault_is_one_line(settings, overrides, expected):
    lines = check(settings, **overrides)
    assert len(lines) == 1 and expected in lines[0], lines


def test_the_lines_are_french(settings):
    (line,) = check(settings, LDAP_USER_SEARCH_BASE="")
    assert "LDAP_SERVER_URI est défini sans LDAP_USER_SEARCH_BASE" in line


def test_without_a_server_uri_the_backend_does_nothing(settings, db, rf):
    settings.LDAP_SERVER_URI = ""
    settings.AUTHENTICATION_BACKENDS = ["core.ldap_backend.LDAPBackend"]
    assert authenticate(rf.post("/"), username="jdupont", password="secret") is None


@pytest.mark.process
def test_from_the_environment_manage_py_check_reports_and_the_backend_is_added(tmp_path):
    """The real settings module: the variables read, the backend after ModelBackend,
    and the check's line when the search base is forgotten."""
    code = "from django.conf import settings as s; print(s.AUTHENTICATION_BACKENDS)"
    off = manage_py(tmp_path, "shell", "--no-imports", "-c", code)
    assert off.returncode == 0 and "LDAPBackend" not in off.stdout, off.stderr

    on = manage_py(
        tmp_path, "shell", "--no-imports", "-c", code, LDAP_SERVER_URI=GOOD["LDAP_SERVER_URI"]
    )
    assert on.stdout.strip().endswith(
        "'django.contrib.auth.backends.ModelBackend', 'core.ldap_backend.LDAPBackend']"
    ), on.stderr

    checked = manage_py(tmp_path, "check", LDAP_SERVER_URI=GOOD["LDAP_SERVER_URI"])
    assert checked.returncode != 0
    assert [line for line in checked.stderr.splitlines() if "core.E1" in line] == [
        "?: (core.E101) LDAP_SERVER_URI est défini sans LDAP_USER_SEARCH_BASE\u00a0: "
        "personne ne peut être trouvé dans l'annuaire."
    ]
