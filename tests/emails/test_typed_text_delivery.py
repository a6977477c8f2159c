"""No name can break delivery (issue 16, findings 3 and 10): whatever a form
accepts, and whatever older versions stored, every email reaches a strict SMTP
server (at most 998 bytes between two CRLFs, RFC 5322) and reads as typed."""

from __future__ import annotations

import datetime
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core.models import OutboundEmail, Projet, Tache
from core.services.daily_check import run_deadline_check
from core.services.email_rendering import RenderedEmail
from core.services.outbox import enqueue, new_row, send_pending
from core.services.summary import send_daily_summary
from tests.conftest import TODAY
from tests.emails.conftest import RecordingHandler, SmtpServer, _use_smtp
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory
from tests.test_typed_text import TYPED_TEXT_MIGRATION

pytestmark = pytest.mark.smtp

NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 20))
MAX_LINE = 998  # bytes between two CRLFs, RFC 5322 section 2.1.1


class StrictHandler(RecordingHandler):
    """Refuses, as strict servers do, a message with a line over 998 bytes."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        lines = envelope.original_content.split(b"\r\n")
        if max(len(line) for line in lines) > MAX_LINE:
            return "500 5.5.2 Line too long"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def strict_smtp(settings: Any):
    server = SmtpServer(StrictHandler())
    _use_smtp(settings, server.port)
    server.start()
    yield server
    server.stop()


def test_a_crafted_name_in_one_project_no_longer_fails_a_members_email(strict_smtp, world):
    """The audit's case: a name of ``\\x1c`` and quotes, stored before names were
    checked, made bob's email (which also listed another project's alerts) a
    1,337-byte HTML line: refused for good. Now it arrives, both projects in it."""
    other = ProjetFactory(nom="Messagerie")
    MembreProjetFactory(projet=other, utilisateur=world.bob)
    TacheFactory(projet=other, nom="Bascule MX", responsable=world.bob, date_echeance=TODAY)
    crafted = '"\x1c' * 100
    TacheFactory(projet=world.projet, nom=crafted, responsable=world.bob, date_echeance=TODAY)
    run_deadline_check(today=TODAY)

    send_pending(now=NOW)

    [bob] = strict_smtp.handler.to("bob@dsi.example.org")
    assert "Bascule MX" in bob.text and "Bascule MX" in bob.html
    assert '""""' in bob.text  # the quotes as typed; the \x1c dropped on the wire
    assert "\x1c" not in bob.text
    assert not OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()


def test_line_breaks_stored_in_a_name_cannot_write_lines_into_an_email(strict_smtp, world):
    """Forms refuse them now (tests/test_typed_text.py); a name stored before is
    put on one line by the typed-text migration."""
    world.projet.nom = "Portail\r\nURGENT : reconnectez-vous : http://evil.example"
    world.projet.save()
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    import_module(f"core.migrations.{TYPED_TEXT_MIGRATION}").clean_stored_text(apps, None)
    run_deadline_check(today=TODAY)

    send_pending(now=NOW)

    [bob] = strict_smtp.handler.to("bob@dsi.example.org")
    assert not any(line.startswith("URGENT") for line in bob.text.splitlines())


ENCODED_WORD = "=?utf-8?b?VVJHRU5UIDogdm90cmUgbW90IGRlIHBhc3NlIGV4cGlyZQ==?="  # "URGENT : ..."


@pytest.mark.parametrize(
    "subject", [f"Projet {ENCODED_WORD}", (f"Projet {ENCODED_WORD} é" * 4)[:255]]
)
def test_a_name_typed_as_an_encoded_word_reaches_the_subject_as_typed(strict_smtp, world, subject):
    """``=?utf-8?b?...?=`` in an ASCII subject once went out raw, and the mail
    client decoded it into other text."""
    rendered = RenderedEmail(subject=subject, body_text="Bonjour\n", body_html="<p>Bonjour</p>")
    enqueue(new_row(rendered, recipient=world.bob, kind=OutboundEmail.Kind.OTHER))

    send_pending(now=NOW)

    [bob] = strict_smtp.handler.to("bob@dsi.example.org")
    assert str(bob.message["Subject"]) == subject
    assert "URGENT" not in str(bob.message["Subject"])


# Text as people paste it: anything, and the characters that broke delivery.
TRICKY = '"<>&=?\x1c\x1d\x0b\x0c\x85\u2028\u2029\r\n\t é€😀'
typed_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=200),
    st.text(st.sampled_from(TRICKY), max_size=200),
)


def _accepted(model: type[Any], name: str, value: str) -> str | None:
    """What the model's form field makes of ``value``, or None if it refuses it."""
    field = model._meta.get_field(name).formfield()
    try:
        return field.clean(value) or None
    except Exception:
        return None


class TestAnyAcceptedTextIsDelivered(TestCase):
    """The property: for any task and project names a form accepts, the alert and
    summary emails go through a strict SMTP server, every line within 998 bytes."""

    server: SmtpServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = SmtpServer(StrictHandler())
        cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        super().tearDownClass()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(task_name=typed_text, project_name=typed_text)
    def test_property(self, task_name: str, project_name: str) -> None:
        nom_tache = _accepted(Tache, "nom", task_name) or "Recette"
        nom_projet = _accepted(Projet, "nom", project_name) or "Portail"
        with self.settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=self.server.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=5,
        ):
            self._check(nom_tache, nom_projet)

    def _check(self, nom_tache: str, nom_projet: str) -> None:
        self.server.handler.received.clear()
        lead = UserFactory(username="lead", email="lead@dsi.example.org")
        owner = UserFactory(username="owner", email="owner@dsi.example.org")
        projet = ProjetFactory(nom=nom_projet, chef_de_projet=lead)
        MembreProjetFactory(projet=projet, utilisateur=owner)
        TacheFactory(projet=projet, nom=nom_tache, responsable=owner, date_echeance=TODAY)
        run_deadline_check(today=TODAY)
        send_daily_summary(today=TODAY)

        result = send_pending(now=NOW)

        assert result.sent == 3, (nom_tache, nom_projet, result)  # 2 alert emails, 1 summary
        assert not OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()
        # The strict server took all three: no line over 998 bytes on the wire.
        assert len(self.server.received) == 3
        for received in self.server.received:
            assert nom_tache in received.text and nom_projet in received.text
