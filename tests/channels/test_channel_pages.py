"""The channel pages: a lead manages their project's channels, each person their own;
everyone else is refused; the URL's secret is on no page and in no admin page."""

from __future__ import annotations

from django.urls import reverse

from core.models import Canal, MessageCanal
from tests.factories import UserFactory
from tests.web.conftest import client_for

SECRET = "s3cr3t-T0KEN-abcdef"
URL = f"json://webhook.dsi.example.org/hooks/{SECRET}"


def _page(world) -> str:
    return reverse("core:project_channels", args=[world.projet.pk])


def _add(client, target: str, url: str = URL, nom: str = "Salon Teams"):
    return client.post(target, {"canal-nom": nom, "canal-url": url})


def test_the_lead_adds_lists_masked_and_removes_a_channel(world):
    alice = client_for(world.alice)
    project_page = alice.get(reverse("core:project_detail", args=[world.projet.pk]))
    assert _page(world) in project_page.content.decode()

    response = _add(alice, _page(world))
    assert response.status_code == 302
    canal = Canal.objects.get()
    assert (canal.projet, canal.cree_par, canal.url) == (world.projet, world.alice, URL)

    page = alice.get(_page(world)).content.decode()
    assert "Salon Teams" in page and canal.url_masquee in page
    assert SECRET not in page and SECRET[:6] not in page

    assert alice.post(reverse("core:channel_delete", args=[canal.pk])).status_code == 302
    assert not Canal.objects.exists()


def test_an_unknown_url_is_refused_on_the_form_without_echoing_it(world):
    response = _add(client_for(world.alice), _page(world), url=f"foo://bar/{SECRET}")
    assert response.status_code == 400
    content = response.content.decode()
    assert "Cette adresse de canal n&#x27;est pas reconnue." in content
    assert SECRET not in content  # the field does not show it back
    assert not Canal.objects.exists()


def test_members_are_refused_and_strangers_see_no_project(world):
    canal = Canal.objects.create(nom="Équipe", url=URL, url_masquee="x", projet=world.projet)
    bob, charlie = client_for(world.bob), client_for(world.charlie)
    assert bob.get(_page(world)).status_code == 403
    assert _add(bob, _page(world)).status_code == 403
    assert bob.post(reverse("core:channel_delete", args=[canal.pk])).status_code == 403
    assert charlie.get(_page(world)).status_code == 404
    assert charlie.post(reverse("core:channel_delete", args=[canal.pk])).status_code == 404
    assert Canal.objects.count() == 1


def test_removing_is_a_post_with_its_csrf_token(world):
    canal = Canal.objects.create(nom="Équipe", url=URL, url_masquee="x", projet=world.projet)
    target = reverse("core:channel_delete", args=[canal.pk])
    assert client_for(world.alice).get(target).status_code == 405
    guarded = client_for(world.alice, enforce_csrf_checks=True)
    assert guarded.post(target).status_code == 403
    assert _add(guarded, _page(world)).status_code == 403
    assert Canal.objects.count() == 1


def test_a_personal_channel_from_the_preferences_page_is_its_owners_only(world):
    bob = client_for(world.bob)
    preferences = bob.get(reverse("core:preferences")).content.decode()
    assert 'id="channels"' in preferences and reverse("core:personal_channel_add") in preferences

    response = _add(bob, reverse("core:personal_channel_add"), nom="Mon Slack")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:preferences") + "#channels"
    canal = Canal.objects.get()
    assert (canal.utilisateur, canal.projet) == (world.bob, None)
    page = bob.get(reverse("core:preferences")).content.decode()
    assert "Mon Slack" in page and SECRET not in page

    # Someone else's personal channel does not exist for anyone else.
    target = reverse("core:channel_delete", args=[canal.pk])
    assert client_for(world.alice).post(target).status_code == 404
    assert (
        client_for(world.charlie)
        .get(reverse("core:preferences"))
        .content.decode()
        .count("Mon Slack")
        == 0
    )
    assert bob.post(target).status_code == 302
    assert not Canal.objects.exists()


def test_a_personal_channel_url_error_is_shown_on_its_own_page(world):
    response = _add(
        client_for(world.bob),
        reverse("core:personal_channel_add"),
        url="mailto://bob:motdepasse@gmail.com",
    )
    assert response.status_code == 400
    assert "Ce service n&#x27;est pas un canal d&#x27;équipe" in response.content.decode()


def test_the_admin_shows_channels_and_messages_masked_and_resends(
    world, chat_server, django_capture_on_commit_callbacks
):
    url = chat_server.url("json", f"/hooks/{SECRET}")
    _add(client_for(world.alice), _page(world), url=url)
    canal = Canal.objects.get()
    message = MessageCanal.objects.create(
        canal=canal,
        kind=MessageCanal.Kind.ALERTS,
        title="Alertes du jour",
        body="• Recette",
        status=MessageCanal.Status.FAILED,
        attempts=5,
    )
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = client_for(root)
    pages = [
        reverse("admin:core_canal_changelist"),
        reverse("admin:core_canal_change", args=[canal.pk]),
        reverse("admin:core_messagecanal_changelist"),
        reverse("admin:core_messagecanal_change", args=[message.pk]),
    ]
    for page in pages:
        response = admin.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.content.decode(), page
    # Searching for the secret finds nothing: the URL is not searched.
    search = reverse("admin:core_canal_changelist") + f"?q={SECRET}"
    assert "0 résultat" in admin.get(search).content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # the sender starts after commit
        response = admin.post(
            reverse("admin:core_messagecanal_changelist"),
            {"action": "resend_messages", "_selected_action": [message.pk]},
            follow=True,
        )
    assert "1 message remis en file d" in response.content.decode()
    message.refresh_from_db()
    assert message.status == MessageCanal.Status.SENT  # eager tests: posted at once
    assert [p["title"] for p in chat_server.messages] == ["Alertes du jour"]
