"""Sign-in and password reset by email, with the application's own pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import OutboundEmail

PASSWORD = "motdepasse-test"  # noqa: S105 (the factories' test password)


@pytest.mark.parametrize(
    "url",
    [
        reverse("core:dashboard"),
        reverse("core:project_list"),
        reverse("core:project_detail", args=[1]),
        reverse("core:task_detail", args=[1]),
        reverse("core:task_edit", args=[1]),
        reverse("core:task_create", args=[1]),
        reverse("core:notification_list"),
        reverse("core:supervision"),
    ],
)
def test_every_page_needs_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_sign_in_lands_on_my_tasks(world):
    client = Client()
    page = client.get(reverse("login"))
    assert 'id="notif-badge"' not in page.content.decode()  # no navigation when signed out
    assert "Mot de passe oublié ?" in page.content.decode()

    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})

    assert response["Location"] == reverse("core:dashboard")
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_wrong_password_is_refused_with_a_message(world):
    response = Client().post(reverse("login"), {"username": "bob", "password": "faux"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_reset_by_email(world, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "bob@dsi.example.org"})
    assert response["Location"] == reverse("password_reset_done")

    # Through the outbox, like every email: stored, then sent by the sender task.
    [row] = OutboundEmail.objects.all()
    assert (row.to_address, row.status) == ("bob@dsi.example.org", OutboundEmail.Status.SENT)
    [email] = mail.outbox
    assert email.to == ["bob@dsi.example.org"]
    assert "SI-Gouvernance" in email.subject
    assert "bob" in email.body
    link = re.search(r"http://testserver(/comptes/reset/\S+/)", email.body).group(1)

    form = client.get(link, follow=True)
    assert form.context["validlink"]
    new_password = "Un-nouveau-mot-de-passe-2026"  # noqa: S105
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert "Mot de passe modifié" in done.content.decode()
    # Through the sign-in page: django-axes needs the request to authenticate.
    signed_in = Client().post(reverse("login"), {"username": "bob", "password": new_password})
    assert signed_in["Location"] == reverse("core:dashboard")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(world):
    response = Client().post(reverse("password_reset"), {"email": "inconnu@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_sign_out_is_a_post_with_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    assert client.post(reverse("logout")).status_code == 403
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_error_pages_keep_the_layout_and_speak_french(db, client, settings):
    from tests.factories import UserFactory

    settings.DEBUG = False
    client.force_login(UserFactory(username="dora"))
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert "Mes tâches" in page  # the navigation bar is there
