"""`manage.py check` says, one line each, what keeps the sign-in with the identity
provider from working; with OIDC_CLIENT_ID unset it is off: no backend, no button."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.processes import manage_py

GOOD = {
    "OIDC_ISSUER": "https://sso.example.org/realms/dsi",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "",
    "OIDC_OP_TOKEN_ENDPOINT": "",
    "OIDC_OP_USER_ENDPOINT": "",
    "OIDC_OP_JWKS_ENDPOINT": "",
    "OIDC_RP_CLIENT_ID": "si-gouvernance",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_USERNAME_CLAIM": "preferred_username",
    "OIDC_GROUPS_CLAIM": "groups",
    "OIDC_STAFF_GROUP": "dsi-admins",
    "OIDC_LEAD_GROUP": "chefs-de-projet",
    "SECURE": True,
}
ENDPOINTS = {
    "OIDC_ISSUER": "",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.example.org/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://login.example.org/token",
    "OIDC_OP_USER_ENDPOINT": "https://login.example.org/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://login.example.org/keys",
}


def check(settings, **overrides: object) -> list[str]:
    """The lines of `manage.py check` that speak of the identity provider."""
    for name, value in {**GOOD, **overrides}.items():
        setattr(settings, name, value)
    out = StringIO()
    try:
        call_command("check", "--fail-level", "WARNING", stdout=out, stderr=out)
    except SystemCheckError as error:
        out.write(str(error))
    return [
        line for line in out.getvalue().splitlines() if "core.E11" in line or "core.W11" in line
    ]


@pytest.mark.parametrize(
    "overrides", [{}, ENDPOINTS, {"SECURE": False, "OIDC_ISSUER": "http://idp"}]
)
def test_configurations_that_work_pass(settings, overrides):
    assert check(settings, **overrides) == []


def test_nothing_is_said_while_it_is_off(settings):
    assert check(settings, OIDC_RP_CLIENT_ID="", OIDC_RP_CLIENT_SECRET="", OIDC_ISSUER="") == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"OIDC_RP_CLIENT_ID": ""}, "core.W111"),
        ({"OIDC_RP_CLIENT_SECRET": ""}, "core.E111"),
        ({"OIDC_ISSUER": ""}, "core.E112"),
        ({**ENDPOINTS, "OIDC_OP_JWKS_ENDPOINT": ""}, "core.E112"),
        ({"OIDC_ISSUER": "http://sso.example.org/realms/dsi"}, "core.E113"),
        ({**ENDPOINTS, "OIDC_OP_TOKEN_ENDPOINT": "http://login.example.org/token"}, "core.E113"),
        ({"OIDC_RP_SCOPES": "email profile"}, "core.E114"),
        ({"OIDC_GROUPS_CLAIM": ""}, "core.E115"),
        ({"OIDC_USERNAME_CLAIM": ""}, "core.E116"),
    ],
)
def test_each_fault_is_one_line(settings, overrides, expected):
    lines = check(settings, **overrides)
    assert len(lines) == 1 and expected in lines[0], lines


def test_the_lines_are_french(settings):
    (line,) = check(settings, OIDC_RP_CLIENT_SECRET="")
    assert "OIDC_CLIENT_ID est défini sans OIDC_CLIENT_SECRET" in line


@pytest.mark.process
def test_from_the_environment_the_backend_is_added_only_with_a_client_id(tmp_path):
    code = (
        "from django.conf import settings as s; from django.urls import reverse;"
        "print(s.AUTHENTICATION_BACKENDS[-1]); print(reverse('oidc_authentication_callback'))"
    )
    off = manage_py(tmp_path, "shell", "--no-imports", "-c", code)
    assert "OIDCBackend" not in off.stdout and "NoReverseMatch" in off.stderr, off.stderr

    variables = {
        "OIDC_ISSUER": GOOD["OIDC_ISSUER"],
        "OIDC_CLIENT_ID": "c",
        "OIDC_CLIENT_SECRET": "s",
    }
    on = manage_py(tmp_path, "shell", "--no-imports", "-c", code, **variables)
    assert on.stdout.split() == ["core.oidc.OIDCBackend", "/comptes/oidc/retour/"], on.stderr

    checked = manage_py(tmp_path, "check", **{**variables, "OIDC_CLIENT_SECRET": ""})
    assert checked.returncode != 0
    assert [line for line in checked.stderr.splitlines() if "core.E11" in line] == [
        "?: (core.E111) OIDC_CLIENT_ID est défini sans OIDC_CLIENT_SECRET."
    ]
