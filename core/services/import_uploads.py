"""Uploaded portfolio files kept between the preview and the confirmation.

The file waits under ``VAR_DIR/imports``, named by a random token that the
uploader's session holds: the confirmation applies exactly the file previewed,
never a plan the browser sends back. It is deleted once applied or refused, when
the same person uploads another, and after ``MAX_AGE`` in any case.
"""

from __future__ import annotations

import datetime
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

MAX_AGE = datetime.timedelta(hours=6)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _directory() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def keep(chunks: Iterable[bytes]) -> str:
    """Write the upload's ``chunks`` to a new file; its token."""
    purge_stale()
    token = secrets.token_urlsafe(32)
    with (_directory() / token).open("xb") as out:
        for chunk in chunks:
            out.write(chunk)
    return token


def path_of(token: str) -> Path | None:
    """The kept file of ``token``, if the token is well-formed and the file still there."""
    if not _TOKEN.match(token):
        return None
    path = _directory() / token
    return path if path.is_file() else None


def discard(token: str) -> None:
    if (path := path_of(token)) is not None:
        path.unlink(missing_ok=True)


def purge_stale(*, now: float | None = None) -> int:
    """Delete the kept files older than ``MAX_AGE``; how many."""
    limit = (now if now is not None else time.time()) - MAX_AGE.total_seconds()
    stale = [path for path in _directory().iterdir() if path.stat().st_mtime < limit]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
