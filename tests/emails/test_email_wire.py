"""The sender writes an outbox email's bytes itself: what arrives is what Django sends."""

from __future__ import annotations

import datetime
import email
import re
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.models import OutboundEmail
from core.services.email_rendering import build_message, standard_headers
from core.services.email_wire import wire_bytes
from core.services.outbox import send_pending

NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 20))
LONG_SUBJECT = "Alertes : Migration LDAP, Refonte du portail « intranet », Réseau Ωmega… " * 2
TEXT = "Bonjour Bob,\n\n. une ligne qui commence par un point\nFrom la DSI\r\nété " + "é" * 240
HTML = "<p>Bonjour <b>Bob</b>,</p>\n<p>échéance : 25 novembre</p>\r<p>" + "x" * 900 + "</p>"
# Every shape of the plain outbox email the builder writes itself.
PLAIN = [
    ("Sujet", "Texte", "<p>Texte</p>"),
    ("Échéance dépassée : Migration LDAP", TEXT, HTML),
    (LONG_SUBJECT, TEXT, HTML),
    ("An English subject long enough to be folded by the generator, twice over " * 2, "a", "b"),
]


def _message(subject: str, text: str, html: str) -> EmailMultiAlternatives:
    row = OutboundEmail(
        pk=42,
        to_address="bob@dsi.example.org",
        subject=subject,
        body_text=text,
        body_html=html,
        headers=standard_headers(),
        created_at=NOW,
    )
    return build_message(row)


def _django_bytes(message: EmailMultiAlternatives) -> bytes:
    """What Django's SMTP backend sends for ``message``."""
    return message.message().as_bytes(linesep="\r\n")


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def _summary(message: EmailMessage) -> list[object]:
    """Headers (but the Date and the random boundary), then each part's headers and text."""
    headers = [(k, v) for k, v in message.items() if k not in ("Date", "Content-Type")]
    parts = [
        (part.get_content_type(), part.get_content_charset(), part["Content-Transfer-Encoding"])
        for part in message.walk()
    ]
    texts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    return [headers, parts, texts]


@pytest.mark.parametrize(("subject", "text", "html"), PLAIN)
def test_the_written_email_reads_as_djangos(db, subject, text, html):
    message = _message(subject, text, html)
    ours, django = wire_bytes(message), _django_bytes(message)

    assert ours is not None
    assert _summary(_parsed(ours)) == _summary(_parsed(django))
    assert _parsed(ours)["Message-ID"] == "<outbox.42.20261125082000@localhost>"


@pytest.mark.parametrize(("subject", "text", "html"), PLAIN)
def test_the_written_email_is_djangos_byte_for_byte_but_boundary_and_date(db, subject, text, html):
    message = _message(subject, text, html)

    def normalised(raw: bytes) -> bytes:
        raw = re.sub(rb"={15}\d{19}==", b"BOUNDARY", raw)
        return re.sub(rb"\r\nDate: [^\r]+", b"\r\nDate: D", raw)

    assert normalised(wire_bytes(message) or b"") == normalised(_django_bytes(message))


@pytest.mark.parametrize(
    "change",
    [
        {"body": "une ligne de mille caractères " + "x" * 1000},  # Django: quoted-printable
        {"body": ""},  # Django leaves the empty text part out
        {"from_email": "DSI Ministère <noreply@dsi.example.org>"},
        {"to": ["bob@dsi.example.org", "alice@dsi.example.org"]},
        {"cc": ["alice@dsi.example.org"]},
        {"subject": "deux\nlignes"},  # Django refuses it (BadHeaderError)
        {"attachments": [("a.txt", "a", "text/plain")]},
    ],
)
def test_any_other_shape_is_left_to_django(db, change):
    message = _message("Sujet", "Texte", "<p>Texte</p>")
    for name, value in change.items():
        setattr(message, name, value)
    assert wire_bytes(message) is None


def test_outbox_emails_arrive_as_stored_whichever_way_they_are_written(smtp_server, db):
    """The plain shape written by the sender, a long line by Django: both read the same."""
    plain = OutboundEmail.objects.create(
        to_address="bob@dsi.example.org", subject=LONG_SUBJECT, body_text=TEXT, body_html=HTML
    )
    long_line = "Ligne interminable " + "é" * 1000 + "\n"
    other = OutboundEmail.objects.create(
        to_address="alice@dsi.example.org", subject="Sujet", body_text=long_line, body_html=HTML
    )

    assert send_pending(now=NOW).sent == 2

    for row in (plain, other):
        [received] = smtp_server.handler.to(row.to_address)
        # strip(): Django folds a long encoded subject after "Subject:", which
        # reads back with a leading space (its own sends do the same).
        assert received.message["Subject"].strip() == row.subject.strip()
        assert received.text.splitlines() == row.body_text.splitlines()
        assert received.html.splitlines() == row.body_html.splitlines()
        assert received.mail_from == "noreply@localhost"
