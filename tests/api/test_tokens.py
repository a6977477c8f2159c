"""Personal API tokens: stored hashed, shown once on the preferences page, revoked
there; the command prints one on its last line; the admin reads them only."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from core.models import JetonApi
from core.services import api_tokens
from tests.api.conftest import bearer
from tests.factories import UserFactory
from tests.web.conftest import client_for


def test_a_token_is_stored_as_its_sha256_only(world):
    created = api_tokens.create_token(user=world.bob, name="Export")
    jeton = JetonApi.objects.get()
    assert jeton.empreinte == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret not in str(list(JetonApi.objects.values()))
    assert jeton.prefixe == created.secret[:8] and len(created.secret) >= 43
    assert api_tokens.authenticate(created.secret) == jeton
    assert api_tokens.authenticate(created.secret + "x") is None


def test_one_person_holds_a_bounded_number_of_active_tokens(world):
    for n in range(api_tokens.MAX_ACTIVE_TOKENS):
        api_tokens.create_token(user=world.bob, name=f"t{n}")
    with pytest.raises(ValidationError):
        api_tokens.create_token(user=world.bob, name="one too many")
    jeton = JetonApi.objects.filter(utilisateur=world.bob).first()
    api_tokens.revoke_token(user=world.bob, token_id=jeton.pk)
    api_tokens.create_token(user=world.bob, name="again")


SECRET = re.compile(r'id="new-token-secret" readonly value="([^"]+)"')


def test_the_preferences_page_creates_a_token_shown_once_then_revokes_it(world):
    browser = client_for(world.bob)
    created = browser.post("/preferences/jetons/", {"jeton-nom": "Script d'export"})
    assert created.status_code == 200
    page = created.content.decode()
    secret = SECRET.search(page).group(1)
    assert "Copiez-le maintenant" in page
    assert bearer(secret).get("/api/v1/tasks/").status_code == 200
    reloaded = browser.get("/preferences/").content.decode()
    assert secret not in reloaded and "Script d&#x27;export" in reloaded
    jeton = JetonApi.objects.get(utilisateur=world.bob)
    assert f"<code>{jeton.prefixe}…</code>" in reloaded
    # Someone else's token: nothing happens.
    client_for(world.charlie).post(f"/preferences/jetons/{jeton.pk}/revoquer/")
    assert bearer(secret).get("/api/v1/tasks/").status_code == 200
    revoked = browser.post(f"/preferences/jetons/{jeton.pk}/revoquer/", follow=True)
    assert "Le jeton est révoqué" in revoked.content.decode()
    assert bearer(secret).get("/api/v1/tasks/").status_code == 401


def test_a_token_needs_a_name(world):
    refused = client_for(world.bob).post("/preferences/jetons/", {"jeton-nom": " "})
    assert refused.status_code == 400
    assert not JetonApi.objects.exists()


def test_the_token_pages_are_post_only_and_signed_in(world):
    assert client_for(world.bob).get("/preferences/jetons/").status_code == 405
    from django.test import Client

    assert Client().post("/preferences/jetons/", {"jeton-nom": "x"}).status_code == 302
    assert not JetonApi.objects.exists()


def test_the_command_prints_the_token_on_its_last_line(world):
    out = io.StringIO()
    call_command("create_api_token", "bob", "--name", "Supervision", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert JetonApi.objects.get().nom == "Supervision"
    assert bearer(secret).get("/api/v1/projects/").status_code == 200


def test_the_command_refuses_an_unknown_user_in_french(world):
    with pytest.raises(CommandError, match="Aucun utilisateur actif nommé «\u00a0personne\u00a0»"):
        call_command("create_api_token", "personne", stdout=io.StringIO())


def test_the_admin_lists_tokens_read_only_without_their_hash(world):
    api_tokens.create_token(user=world.bob, name="Export")
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    jeton = JetonApi.objects.get()
    listing = admin.get("/admin/core/jetonapi/")
    assert listing.status_code == 200 and "Export" in listing.content.decode()
    detail = admin.get(f"/admin/core/jetonapi/{jeton.pk}/change/").content.decode()
    assert jeton.empreinte not in detail
    assert admin.get("/admin/core/jetonapi/add/").status_code == 403


def test_the_documentation_page_lists_every_operation_of_the_document(world):
    from core.api.docs import operations, schema

    assert client_for(world.bob).get("/api/v1/docs/").status_code == 200
    page = client_for(world.bob).get("/api/v1/docs/").content.decode()
    for operation in operations(schema()):
        assert f"<code>{operation.method} {operation.path}</code>" in page
    assert "<h1>Documentation de l" in page
    from django.test import Client

    assert Client().get("/api/v1/docs/").status_code == 302  # to the sign-in page


def test_the_preferences_page_shows_its_token_section_once_under_a_plain_title(world):
    page = client_for(world.bob).get("/preferences/").content.decode()

    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and "Jetons" not in title
    assert page.count('id="api-tokens"') == 1
