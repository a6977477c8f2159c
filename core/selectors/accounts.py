"""Reads about accounts."""

from __future__ import annotations

import unicodedata

from core.models import User


def password_reset_recipients(*, email: str) -> list[User]:
    """The active accounts with a usable password at ``email``, matched as Django's
    ``PasswordResetForm`` does: case-insensitive, Unicode compatibility forms alike."""
    wanted = _folded(email)
    candidates = User.objects.filter(email__iexact=email, is_active=True)
    return [
        user for user in candidates if user.has_usable_password() and _folded(user.email) == wanted
    ]


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()
