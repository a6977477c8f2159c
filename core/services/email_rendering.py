"""The one email builder: subject, plain text and HTML from a template triplet.

Every email of the application is ``templates/emails/<name>_subject.txt``,
``<name>.txt`` and ``<name>.html`` rendered in the recipient's language, plus the
standard headers that tell mail servers and clients it is automated. The outbox
(``core.services.outbox``) stores the result and sends it later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import override

from core.models import OutboundEmail, User


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str
    headers: dict[str, str] = field(default_factory=dict)


def render_email(name: str, context: dict[str, Any], *, language: str) -> RenderedEmail:
    """Render the ``name`` triplet in ``language`` with the standard headers."""
    full_context = {**context, **_common_context()}
    with override(language):
        subject = render_to_string(f"emails/{name}_subject.txt", full_context)
        body_text = render_to_string(f"emails/{name}.txt", full_context)
        body_html = render_to_string(f"emails/{name}.html", full_context)
    return RenderedEmail(
        subject=_one_line(subject)[:255],
        body_text=_tidy_text(body_text),
        body_html=body_html.strip(),
        headers=standard_headers(),
    )


def recipient_language(user: User) -> str:
    """The language to write to ``user`` in (a per-user choice if the model has one)."""
    return str(getattr(user, "language", "") or settings.LANGUAGE_CODE)


def standard_headers() -> dict[str, str]:
    """Headers of every automated email (RFC 3834 and RFC 2369)."""
    return {
        "Auto-Submitted": "auto-generated",
        # Tells Exchange/Outlook not to answer with out-of-office replies.
        "X-Auto-Response-Suppress": "All",
        "List-Unsubscribe": f"<{preferences_url()}>",
    }


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def preferences_url() -> str:
    return absolute_url(reverse("core:preferences"))


def object_url(url_name: str, pk: int) -> str:
    """Absolute link to a detail page."""
    return absolute_url(reverse(url_name, args=[pk]))


def build_message(
    email: OutboundEmail, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The multipart message (text + HTML alternative) of an outbox row."""
    headers = {**email.headers, "Message-ID": message_id(email)}
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_address],
        headers=headers,
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def message_id(email: OutboundEmail) -> str:
    """A Message-ID fixed per outbox row: a rare resend after a crash is recognisable."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return f"<outbox.{email.pk}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def short_list(names: Iterable[str], *, limit: int = 3) -> str:
    """``"A, B, C…"``: the first few distinct names, for a subject line that stays
    readable (and cheap to encode: a long non-ASCII subject costs more CPU than
    the rest of the message)."""
    distinct = list(dict.fromkeys(names))
    return ", ".join(distinct[:limit]) + ("…" if len(distinct) > limit else "")


def _common_context() -> dict[str, Any]:
    return {"site_url": settings.SITE_URL, "preferences_url": preferences_url()}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy_text(text: str) -> str:
    """Drop the blank lines template tags leave behind (at most one in a row)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
