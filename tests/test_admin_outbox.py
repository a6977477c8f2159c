"""The outbox in the admin: read-only but for "resend", and never a secret on screen."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from core.models import OutboundEmail
from tests.conftest import World
from tests.factories import UserFactory
from tests.web.test_password_reset import ask

Status = OutboundEmail.Status
CONFIDENTIAL = "Contenu confidentiel, généré à l'envoi."


def staff(username: str, *codenames: str) -> Client:
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def viewer(db: None) -> Client:
    """The audit's staff account: it may only view the outbox."""
    return staff("viewer", "view_outboundemail")


@pytest.fixture
def queued_reset(world: World) -> OutboundEmail:
    ask(world.bob.email)  # the request, then the background part it queued
    return OutboundEmail.objects.get(recipient=world.bob)


def change_url(row: OutboundEmail) -> str:
    return reverse("admin:core_outboundemail_change", args=[row.pk])


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("who", ["viewer", "superuser"])
def test_nobody_reads_a_reset_link_in_the_admin(request, queued_reset: OutboundEmail, who: str):
    client: Client = request.getfixturevalue(who)

    page = client.get(change_url(queued_reset))
    listing = client.get(reverse("admin:core_outboundemail_changelist"))

    assert page.status_code == 200 and listing.status_code == 200
    for content in (text(page), text(listing)):
        assert "/comptes/reset/" not in content
    assert CONFIDENTIAL in text(page)


def test_the_viewer_cannot_change_a_row_to_take_over_an_account(
    viewer: Client, queued_reset: OutboundEmail
):
    """The audit's attack: point the reset email at one's own address, then resend."""
    page = viewer.get(change_url(queued_reset)).content.decode()
    assert 'name="to_address"' not in page

    response = viewer.post(change_url(queued_reset), {"to_address": "attaquant@example.org"})
    assert response.status_code == 403

    resent = viewer.post(
        reverse("admin:core_outboundemail_changelist"),
        {"action": "resend_emails", "_selected_action": [queued_reset.pk]},
    )
    assert resent.status_code in (200, 302)
    queued_reset.refresh_from_db()
    assert queued_reset.to_address == "bob@dsi.example.org"


@pytest.mark.parametrize("page", ["add", "change", "delete"])
def test_rows_are_read_only_even_for_a_superuser(
    superuser: Client, queued_reset: OutboundEmail, page: str
):
    args = [] if page == "add" else [queued_reset.pk]
    url = reverse(f"admin:core_outboundemail_{page}", args=args)

    response = superuser.post(url, {"to_address": "x@example.org", "post": "yes"})

    assert response.status_code == 403
    queued_reset.refresh_from_db()
    assert queued_reset.to_address == "bob@dsi.example.org"


def test_a_sent_email_shows_that_its_body_was_dropped(superuser: Client, world: World):
    row = OutboundEmail.objects.create(
        recipient=world.bob, to_address=world.bob.email, subject="S", status=Status.SENT
    )
    page = text(superuser.get(change_url(row)))
    assert "Supprimé après l'envoi." in page


def test_resend_needs_the_change_permission(world: World):
    row = OutboundEmail.objects.create(
        to_address=world.bob.email, subject="S", body_text="T", status=Status.FAILED
    )
    action = {"action": "resend_emails", "_selected_action": [row.pk]}
    changelist = reverse("admin:core_outboundemail_changelist")

    staff("viewer", "view_outboundemail").post(changelist, action)
    row.refresh_from_db()
    assert row.status == Status.FAILED

    staff("operator", "view_outboundemail", "change_outboundemail").post(changelist, action)
    row.refresh_from_db()
    assert row.status in (Status.PENDING, Status.SENT)
