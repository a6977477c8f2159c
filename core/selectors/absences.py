"""A user's absences, as their page lists them."""

from __future__ import annotations

from core.models import Absence, User

# The page lists the most recent ones; older absences stay in the admin.
LISTED = 50


def absences_of(*, user: User) -> list[Absence]:
    """``user``'s own absences, the latest first (at most ``LISTED``)."""
    return list(Absence.objects.filter(utilisateur=user).order_by("-debut", "-id")[:LISTED])
