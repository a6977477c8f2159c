"""The one email builder: subject, plain text and HTML from a template triplet.

Every email of the application is ``templates/emails/<name>_subject.txt``,
``<name>.txt`` and ``<name>.html`` rendered in the recipient's language, plus the
standard headers that tell mail servers and clients it is automated. The outbox
(``core.services.outbox``) stores the result and sends it later.

An email that carries a secret (``OutboundEmail.carries_secret``: a password-reset
link today) is the exception: its row stores no body, and ``build_message`` renders
it when the sender sends it, with a secret minted then. Nothing readable is ever
stored, and a retry or a resend carries a fresh, valid link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from email.header import Header
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import override

from core.models import OutboundEmail, User
from core.paths import path_to
from core.site_url import site_url
from core.text import header_safe, one_line, wire_safe


class UndeliverableEmail(Exception):
    """The email can no longer be rendered (its recipient is gone or changed):
    retrying cannot help."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str
    headers: dict[str, str] = field(default_factory=dict)


def render_email(name: str, context: dict[str, Any], *, site: str | None = None) -> RenderedEmail:
    """Render the ``name`` triplet, in French (the DSI's one language, as the
    pages), with the standard headers; ``site``: the site's address, when the
    caller read it once for many emails."""
    site = site or site_url()
    preferences = preferences_url(site=site)
    full_context = {**context, "site_url": site, "preferences_url": preferences}
    with override(settings.LANGUAGE_CODE):
        subject = render_subject(name, full_context)
        body_text = render_to_string(f"emails/{name}.txt", full_context)
        body_html = render_to_string(f"emails/{name}.html", full_context)
    return RenderedEmail(
        subject=subject,
        body_text=_tidy_text(body_text),
        body_html=body_html.strip(),
        headers=standard_headers(preferences=preferences),
    )


def render_subject(name: str, context: dict[str, Any]) -> str:
    """The one-line subject of the ``name`` triplet."""
    with override(settings.LANGUAGE_CODE):
        return one_line(render_to_string(f"emails/{name}_subject.txt", context))[:255]


def standard_headers(*, preferences: str | None = None) -> dict[str, str]:
    """Headers of every automated email (RFC 3834 and RFC 2369): what
    ``render_email`` gives each; ``preferences``: the page's address, if known."""
    return {**automated_headers(), "List-Unsubscribe": f"<{preferences or preferences_url()}>"}


def automated_headers() -> dict[str, str]:
    """Headers of an automated email one cannot unsubscribe from (RFC 3834)."""
    return {
        "Auto-Submitted": "auto-generated",
        # Tells Exchange/Outlook not to answer with out-of-office replies.
        "X-Auto-Response-Suppress": "All",
    }


def absolute_url(path: str) -> str:
    return f"{site_url()}{path}"


def preferences_url(*, site: str | None = None) -> str:
    return f"{site or site_url()}{reverse('core:preferences')}"


def object_url(url_name: str, pk: int) -> str:
    """Absolute link to a page of one object (a task, a project, its actions)."""
    return absolute_url(path_to(url_name, pk))


def build_message(
    email: OutboundEmail, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The multipart message (text + HTML alternative) of an outbox row.

    Raises ``UndeliverableEmail`` when a row rendered at send time can no longer be.
    Whatever the row holds (names typed before input was normalised included), the
    parts carry no control character but the line feed and the tab, so that a line
    is the same for Django's long-line test (which switches a part to
    quoted-printable) and for the SMTP server: no line can pass 998 bytes.
    """
    content = message_content(email)
    message = EmailMultiAlternatives(
        subject=subject_header(content.subject),
        body=wire_safe(content.body_text),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_address],
        headers={**content.headers, "Message-ID": message_id(email)},
        connection=connection,
    )
    if content.body_html:
        message.attach_alternative(wire_safe(content.body_html), "text/html")
    return message


def subject_header(subject: str) -> str:
    """The subject on one line; encoded (RFC 2047) as a whole when it holds ``=?``,
    so that a name typed as an encoded word reaches the reader as typed, never
    decoded into other text. Encoded words are joined by spaces: one line, which
    the generator folds between words."""
    line = header_safe(subject)
    if "=?" not in line:
        return line
    # header_name: the first word fits after "Subject: ", so no fold comes first.
    return Header(line, "utf-8", header_name="Subject").encode(linesep=" ")


def message_content(email: OutboundEmail) -> RenderedEmail:
    """What the row stored, or, for an email that carries a secret, its rendering now."""
    if email.carries_secret:
        return SEND_TIME_RENDERERS[email.kind](email)
    return RenderedEmail(
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        headers=email.headers,
    )


def render_password_reset(email: OutboundEmail) -> RenderedEmail:
    """The password-reset email, with a link minted now (valid PASSWORD_RESET_TIMEOUT)."""
    user = email.recipient
    if user is None or not can_reset_password(user, address=email.to_address):
        raise UndeliverableEmail(
            "Password reset not sent: the account was removed, deactivated, "
            "or its address changed since the request."
        )
    context = {"user": user, "reset_url": password_reset_url(user)}
    rendered = render_email("password_reset", context)
    return replace(rendered, headers=automated_headers())  # not a list: no unsubscribing


def can_reset_password(user: User, *, address: str) -> bool:
    """Still the account that asked, at the address it asked from (as Django checks)."""
    current = getattr(user, User.get_email_field_name()) or ""
    same_address = current.casefold() == address.casefold()
    return user.is_active and user.has_usable_password() and same_address


def password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


# One renderer per kind of email that carries a secret (SECRET_KINDS, pinned by a test).
SEND_TIME_RENDERERS: dict[str, Callable[[OutboundEmail], RenderedEmail]] = {
    OutboundEmail.Kind.PASSWORD_RESET: render_password_reset,
}


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


def _tidy_text(text: str) -> str:
    """Drop the blank lines template tags leave behind (at most one in a row).
    Lines end at ``\n`` only: ``splitlines()`` would also cut inside a name."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
