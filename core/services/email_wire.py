"""The bytes on the wire of a plain outbox email, written directly.

Django turns an email into MIME objects, then the standard library's generator
turns those into bytes: half of the sender's CPU, most of it spent on generality
an outbox email does not use. ``wire_bytes`` writes the one shape every outbox
email has: one recipient, ASCII addresses and header values (the subject may be
anything), a UTF-8 text body and one HTML alternative, no attachment, no line
beyond RFC 5322's 998 bytes. For anything else it answers None and the caller
lets Django serialise the message.

The result is what Django sends for the same message, header for header and byte
for byte but for the random MIME boundary and the Date (a test compares both),
produced with the same standard-library calls where a value needs encoding or
folding (``email.header.Header``).
"""

from __future__ import annotations

import random
import re
import sys
from email.header import Header
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives

CRLF = "\r\n"
MAX_HEADER_LINE = 78  # the generator's folding width (email.policy.compat32)
MAX_BODY_LINE = 998  # RFC 5322; Django switches to quoted-printable beyond
EOL = re.compile(r"\r\n|\r|\n")
# Headers Django writes itself, or that would change the message's structure.
OWN_HEADERS = frozenset(
    {"from", "to", "cc", "reply-to", "date", "subject"}
    | {"mime-version", "content-type", "content-transfer-encoding"}
)


def wire_bytes(message: EmailMessage) -> bytes | None:
    """``message`` as Django would send it, or None when it is not the plain shape."""
    if not is_plain(message):
        return None
    assert isinstance(message, EmailMultiAlternatives)
    text = _part(str(message.body), "plain")
    html = _part(str(message.alternatives[0][0]), "html")
    boundary = _boundary(text, html)
    headers = [
        # Always too long for one line: folded where the generator folds it.
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
        "MIME-Version: 1.0",
        _subject(str(message.subject)),
        _header("From", message.from_email),
        _header("To", message.to[0]),
        _header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
        *(_header(name, value) for name, value in message.extra_headers.items()),
    ]
    return "".join(
        [
            *(line + CRLF for line in headers),
            f"{CRLF}--{boundary}{CRLF}{text}{CRLF}--{boundary}{CRLF}{html}",
            f"{CRLF}--{boundary}--{CRLF}",
        ]
    ).encode()


def is_plain(message: EmailMessage) -> bool:
    """Whether ``message`` has the one shape ``wire_bytes`` writes."""
    alternatives = getattr(message, "alternatives", [])
    return (
        isinstance(message, EmailMultiAlternatives)
        and not (message.attachments or message.cc or message.bcc or message.reply_to)
        and len(message.to) == 1
        and len(alternatives) == 1
        and alternatives[0][1] == "text/html"
        and bool(message.body)
        and (message.encoding or settings.DEFAULT_CHARSET).lower() == "utf-8"
        and type(message).content_subtype == "plain"
        and "message-id" in (name.lower() for name in message.extra_headers)
        and not OWN_HEADERS.intersection(name.lower() for name in message.extra_headers)
        and "\n" not in message.subject
        and "\r" not in message.subject
        and all(_safe(value) for value in _header_values(message))
        and _short_lines(str(message.body))
        and _short_lines(str(alternatives[0][0]))
    )


def _header_values(message: EmailMessage) -> list[str]:
    return [message.from_email, message.to[0], *map(str, message.extra_headers.values())]


def _safe(value: str) -> bool:
    return value.isascii() and "\n" not in value and "\r" not in value


def _short_lines(text: str) -> bool:
    """No line over 998 bytes, lines cut where SMTP cuts them (CRLF, CR or LF
    here, CRLF on the wire), cheap first. Longer: Django sends the part
    quoted-printable. (``str.splitlines()`` would also cut at ``\x1c`` or
    ``\u2028``, which SMTP does not.)"""
    lines = EOL.split(text)
    if max(map(len, lines), default=0) * 4 <= MAX_BODY_LINE:  # UTF-8: 4 bytes at most
        return True
    return all(len(line.encode(errors="surrogateescape")) <= MAX_BODY_LINE for line in lines)


def _part(content: str, subtype: str) -> str:
    """A UTF-8 body part, as ``SafeMIMEText`` writes it: 7bit if ASCII, else 8bit."""
    encoding = "7bit" if content.isascii() else "8bit"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"MIME-Version: 1.0{CRLF}"
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
        f"{EOL.sub(CRLF, content)}"
    )


def _boundary(*parts: str) -> str:
    """A boundary in the generator's format, found in no part."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="  # noqa: S311
        if not any(f"--{boundary}" in part for part in parts):
            return boundary


def _subject(subject: str) -> str:
    """Encoded as Django does (RFC 2047 when not ASCII), then folded as the generator."""
    charset = None if subject.isascii() else "utf-8"
    return _header("Subject", Header(subject, charset).encode())


def _header(name: str, value: str) -> str:
    """``name: value``, folded as the generator folds (compat32) when too long."""
    line = f"{name}: {value}"
    if len(line) <= MAX_HEADER_LINE and "\n" not in value:
        return line
    folded = Header(value, header_name=name).encode(linesep=CRLF, maxlinelen=MAX_HEADER_LINE)
    return f"{name}: {folded}"
