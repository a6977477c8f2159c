"""Sign-in with an OpenID Connect provider, against a real one
(tests/oidc_provider.py), through Django's test client.

The full authorization-code flow (state, nonce, PKCE challenge, RS256 ID token
checked against the provider's JWKS): the account is created from the claims and
kept in step at the next sign-in. Whatever goes wrong lands on the sign-in page
with one French message and creates no account; the lockout counts the failures.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

import tests.oidc_urls  # noqa: F401  # the site's URLs read with the provider off
from core.models import AccountSource, User
from core.oidc import OIDCBackend
from core.services.directory_accounts import LEAD_GROUP_NAME
from tests.factories import UserFactory
from tests.oidc_provider import JEANNE, PAUL, Person, Provider, query

pytestmark = pytest.mark.process

LOCKED = 429
BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "core.oidc.OIDCBackend",
]
INVALID = "La connexion avec Keycloak DSI n&#x27;a pas pu être vérifiée"


@pytest.fixture
def provider(settings, oidc_provider, db) -> Provider:
    use_provider(settings, oidc_provider)
    group, _created = Group.objects.get_or_create(name=LEAD_GROUP_NAME)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="add_projet")
    )
    return oidc_provider


def use_provider(settings, provider: Provider) -> None:
    for name, value in provider.django_settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    settings.ROOT_URLCONF = "tests.oidc_urls"


def start(client: Client) -> str:
    """The click on the sign-in page's button: the provider's authorization URL."""
    page = client.get(reverse("login")).content.decode()
    assert "Se connecter avec Keycloak DSI" in page
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 302
    return response["Location"]


def sign_in(client: Client, provider: Provider, person: Person) -> tuple[int, str]:
    callback = provider.authorize(start(client), person)
    return finish(client, callback)


def finish(client: Client, callback: str) -> tuple[int, str]:
    """The callback, then the page it leads to."""
    response = client.get(callback, follow=True)
    return response.status_code, response.content.decode()


def signed_in(client: Client) -> bool:
    return client.get(reverse("core:dashboard")).status_code == 200


def test_the_flow_creates_the_account_from_the_claims(provider, monkeypatch):
    sent: list[dict] = []
    real_get_token = OIDCBackend.get_token
    monkeypatch.setattr(
        OIDCBackend,
        "get_token",
        lambda self, payload: sent.append(payload) or real_get_token(self, payload),
    )
    client = Client()
    url = start(client)
    authorization = query(url)
    # Authorization code with PKCE S256, a state and a nonce, the scopes asked for.
    assert authorization["response_type"] == "code"
    assert authorization["code_challenge_method"] == "S256"
    assert len(authorization["code_challenge"]) == 43 and authorization["state"]
    assert authorization["nonce"] and authorization["scope"] == "openid email profile"
    assert authorization["redirect_uri"] == "http://testserver/comptes/oidc/retour/"

    status, page = finish(client, provider.authorize(url, JEANNE))

    assert status == 200 and signed_in(client), page[:2000]
    # The token request proves the PKCE challenge: SHA-256 of its verifier.
    verifier = sent[0]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == authorization["code_challenge"] and len(verifier) == 64
    jeanne = User.objects.get(username="jdupont")
    assert jeanne.account_source == AccountSource.OIDC
    assert jeanne.directory_id == f"{provider.issuer}|{JEANNE.sub}"
    assert (jeanne.first_name, jeanne.last_name, jeanne.email) == (
        "Jeanne",
        "Dupont",
        JEANNE.email,
    )
    assert jeanne.is_staff and not jeanne.is_superuser
    assert jeanne.has_perm("core.add_projet")  # « Chefs de projet »
    assert not jeanne.has_usable_password()


def test_the_next_sign_in_applies_the_changed_claims(provider):
    assert sign_in(Client(), provider, JEANNE)[0] == 200
    provider.set_person(
        Person(JEANNE.sub, "jdupont", "Jeanne", "Martin", "j.martin@dsi.example.org", ("tous",))
    )

    client = Client()
    status, _page = sign_in(client, provider, JEANNE)

    assert status == 200 and signed_in(client)
    jeanne = User.objects.get(directory_id=f"{provider.issuer}|{JEANNE.sub}")
    assert (jeanne.last_name, jeanne.email) == ("Martin", "j.martin@dsi.example.org")
    assert not jeanne.is_staff  # out of the staff group
    assert not jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()
    assert User.objects.count() == 1


def test_sign_out_after_a_provider_sign_in(provider):
    client = Client()
    sign_in(client, provider, PAUL)
    response = client.post(reverse("logout"), follow=True)
    assert "Vous êtes déconnecté" in response.content.decode()
    assert not signed_in(client)


def test_a_wrong_state_is_refused(provider):
    client = Client()
    callback = provider.authorize(start(client), PAUL)
    forged = callback.replace(f"state={query(callback)['state']}", "state=forged")

    status, page = finish(client, forged)

    assert status == 200 and INVALID in page
    assert not signed_in(client) and not User.objects.exists()


def test_a_callback_replayed_is_refused(provider):
    client = Client()
    callback = provider.authorize(start(client), PAUL)
    assert finish(client, callback)[0] == 200 and signed_in(client)
    client.post(reverse("logout"))

    status, page = finish(client, callback)  # the state was used once

    assert status == 200 and INVALID in page and not signed_in(client)


def _tampered(real_get_token):
    """The token endpoint's answer with the ID token's claims changed, its
    signature kept: someone rewriting the token on its way."""

    def get_token(self, payload):
        answer = real_get_token(self, payload)
        header, claims, signature = answer["id_token"].split(".")
        decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        decoded["preferred_username"] = "admin"
        forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
        return {**answer, "id_token": f"{header}.{forged}.{signature}"}

    return get_token


def test_a_tampered_id_token_is_refused(provider, monkeypatch):
    monkeypatch.setattr(OIDCBackend, "get_token", _tampered(OIDCBackend.get_token))
    client = Client()

    status, page = sign_in(client, provider, PAUL)

    assert status == 200 and INVALID in page
    assert not signed_in(client) and not User.objects.exists()


def test_an_expired_id_token_is_refused(provider):
    """The provider's tokens last 300 s: read 10 minutes later, expired."""
    client = Client()
    callback = provider.authorize(start(client), PAUL)
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=10)

    with time_machine.travel(later):
        status, page = finish(client, callback)

    assert status == 200 and INVALID in page
    assert not User.objects.exists()


def test_a_code_exchanged_without_the_session_verifier_is_refused(provider):
    """The code is bound to this browser's session (state, nonce, PKCE verifier):
    another browser bringing it back gets nothing."""
    callback = provider.authorize(start(Client()), PAUL)
    other = Client()

    status, page = finish(other, callback)

    assert status == 200 and INVALID in page and not User.objects.exists()


def test_the_provider_cancelled(provider):
    client = Client()
    state = query(start(client))["state"]
    status, page = finish(client, f"/comptes/oidc/retour/?error=access_denied&state={state}")
    assert status == 200 and "Keycloak DSI ne vous a pas laissé vous connecter" in page


def test_a_provider_down_is_one_message(settings, provider):
    provider.stop()
    client = Client()
    response = client.get(reverse("oidc_authentication_init"), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Keycloak DSI ne répond pas" in page
    assert 'name="username"' in page  # the local form stays


def test_a_superusers_name_is_not_taken(provider):
    UserFactory(username="jdupont", is_superuser=True, is_staff=True)
    status, page = sign_in(Client(), provider, JEANNE)
    assert status == 200 and "déjà utilisé par un autre compte" in page
    assert not User.objects.filter(account_source=AccountSource.OIDC).exists()


def test_a_deactivated_account_is_refused(provider):
    assert sign_in(Client(), provider, PAUL)[0] == 200
    User.objects.filter(username="pmartin").update(is_active=False)
    client = Client()
    status, page = sign_in(client, provider, PAUL)
    assert status == 200 and "Votre compte est désactivé" in page
    assert not signed_in(client)


def test_failures_count_and_a_locked_out_address_is_refused(settings, provider, monkeypatch):
    settings.AXES_IP_FAILURE_LIMIT = 2
    client = Client()  # a person already on the provider's page when the address is locked
    pending = provider.authorize(start(client), PAUL)
    real_get_token = OIDCBackend.get_token
    monkeypatch.setattr(OIDCBackend, "get_token", _tampered(real_get_token))
    for _ in range(2):
        sign_in(Client(), provider, PAUL)
    assert AccessAttempt.objects.filter(username__isnull=True).count() == 1  # one row, 2 failures
    assert "code=********************" in AccessAttempt.objects.get().get_data
    monkeypatch.setattr(OIDCBackend, "get_token", real_get_token)

    response = client.get(pending)  # a good code: refused before it is exchanged

    assert response.status_code == LOCKED and not signed_in(client)
    assert not User.objects.exists()
    # And the button itself says so, before any trip to the provider.
    assert Client().get(reverse("oidc_authentication_init")).status_code == LOCKED


def test_failures_with_the_provider_lock_the_button_not_local_accounts(
    settings, provider, monkeypatch
):
    """Counted without a user name: AXES_FAILURE_LIMIT of them lock the button from
    that address; a local account there still signs in."""
    settings.AXES_FAILURE_LIMIT, settings.AXES_IP_FAILURE_LIMIT = 2, 100
    monkeypatch.setattr(OIDCBackend, "get_token", _tampered(OIDCBackend.get_token))
    for _ in range(2):
        sign_in(Client(), provider, PAUL)

    assert Client().get(reverse("oidc_authentication_init")).status_code == LOCKED
    UserFactory(username="alice", password="motdepasse-local-1")
    local = Client()
    response = local.post(reverse("login"), {"username": "alice", "password": "motdepasse-local-1"})
    assert response.status_code == 302 and signed_in(local)


def test_without_settings_there_is_no_button_nor_url(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "oidc-sign-in" not in page
    assert client.get("/comptes/oidc/connexion/").status_code == 404


def test_endpoints_given_one_by_one_without_discovery(settings, provider):
    settings.OIDC_ISSUER = ""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.issuer}/oauth2/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.issuer}/oauth2/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.issuer}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.issuer}/jwks"
    client = Client()
    assert sign_in(client, provider, PAUL)[0] == 200 and signed_in(client)


def test_a_token_signed_by_another_key_is_refused(settings, provider, tmp_path):
    """The JWKS of another provider (another key): the signature does not verify."""
    other = Provider(token_max_age=300)
    other.start(str(tmp_path / "other.log"))
    try:
        settings.OIDC_OP_JWKS_ENDPOINT = f"{other.issuer}/jwks"
        client = Client()
        status, page = sign_in(client, provider, PAUL)
    finally:
        other.stop()
    assert status == 200 and INVALID in page and not User.objects.exists()
