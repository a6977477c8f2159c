"""Password reset by email: the link is never stored, one email per account per
quarter of an hour, and the page never tells whether an address has an account,
neither by its text nor by its work (the look-up happens in the background)."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import OutboundEmail, User
from core.models.outbox import SECRET_KINDS
from core.services.email_rendering import SEND_TIME_RENDERERS
from core.services.outbox import send_pending
from core.services.password_reset import REQUEST_INTERVAL, request_password_reset
from core.site_url import site_url
from tests.web.conftest import NOW

BOB = "bob@dsi.example.org"
RESET_PATH = re.compile(r"https?://\S+?(/comptes/reset/\S+/)")


def post_reset_form(email: str = BOB, client: Client | None = None):
    """The request alone: what it queued for after the commit is returned, not run."""
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        response = (client or Client()).post(reverse("password_reset"), {"email": email})
    return response, queued


def ask(email: str = BOB, client: Client | None = None, *, send: bool = False):
    """Ask for a reset, then run what the page queued (the worker's part, Celery
    being eager here); the emails are sent too when ``send``."""
    response, queued = post_reset_form(email, client)
    with TestCase.captureOnCommitCallbacks(execute=send):
        for callback in queued:
            callback()
    return response


def stored(row: OutboundEmail) -> str:
    """Everything the database holds of a row: what an admin or a dump would read."""
    return " ".join(str(value) for value in OutboundEmail.objects.values().get(pk=row.pk).values())


def without_csrf_token(response) -> str:
    """The page as any visitor sees it (each visitor has a token of its own)."""
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())


def reset_link(message: mail.EmailMessage) -> str:
    match = RESET_PATH.search(message.body)
    assert match, message.body
    return match.group(1)


def choose_password(client: Client, link: str, password: str) -> bool:
    """Follow a reset link and set ``password``; True when the link was valid."""
    form = client.get(link, follow=True)
    if not form.context["validlink"]:
        return False
    client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    return True


def test_the_link_is_never_stored_and_works_when_sent(world):
    client = Client()
    response = ask(client=client)
    assert response["Location"] == reverse("password_reset_done")

    [row] = OutboundEmail.objects.all()
    assert "/reset/" not in stored(row) and (row.body_text, row.body_html) == ("", "")
    assert row.to_address == BOB and row.recipient == world.bob

    send_pending()
    [message] = mail.outbox
    assert message.to == [BOB]
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENT
    assert "/reset/" not in stored(row)  # sending did not write it down either

    new_password = "Un-nouveau-mot-de-passe-2026"
    assert choose_password(client, reset_link(message), new_password)
    # Through the sign-in page: django-axes needs the request to authenticate.
    signed_in = Client().post(reverse("login"), {"username": "bob", "password": new_password})
    assert signed_in["Location"] == reverse("core:dashboard")


def test_the_email_has_both_parts_in_french(world, settings):
    ask(send=True)

    [message] = mail.outbox
    link = site_url() + reset_link(message)  # SITE_URL, else dev.py run's, else the default
    html = message.alternatives[0][0]
    assert message.subject == "SI-Gouvernance\u00a0: choisissez un nouveau mot de passe"
    assert link in message.body and f'href="{link}"' in html
    assert "Bonjour Bob," in message.body and "Bonjour Bob," in html
    assert "Votre identifiant\u00a0: bob" in message.body and "Votre identifiant\u00a0: bob" in html
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message.extra_headers  # not a mailing list


def test_a_link_sent_days_later_is_minted_then_and_valid(world, settings):
    """A row that waited (SMTP down, a retry, a resend) gets a link valid from its
    sending, not from the request: it never arrives expired."""
    with time_machine.travel(NOW, tick=False):
        ask()
    later = NOW + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 3600)
    with time_machine.travel(later, tick=False):
        send_pending()
        [message] = mail.outbox
        assert choose_password(Client(), reset_link(message), "Encore-un-mot-de-passe-2026")


def test_three_requests_in_a_row_send_one_email(world):
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            ask(send=True)
    assert len(mail.outbox) == 1

    after = NOW + REQUEST_INTERVAL + datetime.timedelta(seconds=1)
    with time_machine.travel(after, tick=False):
        ask(send=True)
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.count() == 2


def test_the_page_never_tells_whether_the_address_has_an_account(world):
    with time_machine.travel(NOW, tick=False):
        answers = [
            ask(email, client=Client())
            for email in (BOB, BOB, "inconnu@example.org", "BOB@DSI.EXAMPLE.ORG")
        ]
        pages = [without_csrf_token(Client().get(answer["Location"])) for answer in answers]

    assert {(answer.status_code, answer["Location"]) for answer in answers} == {
        (302, reverse("password_reset_done"))
    }
    assert len(set(pages)) == 1
    assert OutboundEmail.objects.count() == 1  # bob's first request only


def test_the_request_does_the_same_work_for_a_known_and_an_unknown_address(world):
    """No timing oracle: the page only queues the address; the account is looked
    up, and its email queued, in the background."""
    answers = {}
    for email in (BOB, "inconnu@example.org"):
        with CaptureQueriesContext(connection) as queries:
            response, queued = post_reset_form(email)
        answers[email] = (response.status_code, response["Location"], len(queries), len(queued))
        assert OutboundEmail.objects.count() == 0  # nothing written by the request

    assert answers[BOB] == answers["inconnu@example.org"]
    assert answers[BOB][2] == 0  # not even a look-up

    ask(send=True)  # the worker's part
    [message] = mail.outbox
    assert message.to == [BOB] and "/comptes/reset/" in message.body


def test_the_background_task_queues_for_known_addresses_only(world):
    from core.tasks import request_password_reset as request_task

    assert request_task.delay(email="inconnu@example.org").get() == 0
    assert request_task.delay(email="BOB@dsi.example.org").get() == 1
    assert OutboundEmail.objects.get().recipient == world.bob


def test_an_account_deactivated_before_sending_gets_no_link(world):
    ask()
    User.objects.filter(pk=world.bob.pk).update(is_active=False)

    send_pending()

    assert mail.outbox == []
    row = OutboundEmail.objects.get()
    assert row.status != OutboundEmail.Status.SENT and "deactivated" in row.last_error


def test_an_address_changed_before_sending_gets_no_link(world):
    ask()
    User.objects.filter(pk=world.bob.pk).update(email="bob.durand@dsi.example.org")

    send_pending()

    assert mail.outbox == []


def test_every_secret_kind_is_rendered_at_send_time():
    assert set(SEND_TIME_RENDERERS) == set(SECRET_KINDS)


def test_the_database_refuses_a_stored_secret(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundEmail.objects.create(
            kind=OutboundEmail.Kind.PASSWORD_RESET,
            to_address=BOB,
            subject="s",
            body_text="http://localhost:8000/comptes/reset/Mg/abc-123/",
        )


@pytest.mark.postgres
def test_concurrent_requests_queue_one_email(transactional_db, postgres_db):
    bob = User.objects.create_user("bob", BOB, "motdepasse-test")
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def request() -> None:
        try:
            barrier.wait()
            results.append(request_password_reset(user=bob))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert OutboundEmail.objects.count() == 1
