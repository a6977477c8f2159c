"""A user's absences, as their page lists them."""

from __future__ import annotations

from django.db.models import QuerySet

from core.models import Absence, User

# The absences page shows this many a page.
ABSENCES_PER_PAGE = 50


def absences_of(*, user: User) -> QuerySet[Absence]:
    """``user``'s own absences, the latest first (lazy: page it)."""
    return Absence.objects.filter(utilisateur=user).order_by("-debut", "-id")
