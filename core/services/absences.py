"""A user's absences: recorded and deleted by the user themself.

While an absence covers a day, the deadline engine (``core.services.deadlines``)
sends the user's alerts to the lead of each project, and the first working day
after it brings a catch-up digest (``core.services.absence_digest``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.models import Absence, User


def check_absence_dates(*, debut: datetime.date, fin: datetime.date) -> None:
    """An absence ends on or after the day it starts (both days included)."""
    if fin < debut:
        raise ValidationError(
            _("The end date must be on or after the start date."), code="fin_before_debut"
        )


def record_absence(
    *, user: User, debut: datetime.date, fin: datetime.date, motif: str = ""
) -> Absence:
    check_absence_dates(debut=debut, fin=fin)
    return Absence.objects.create(utilisateur=user, debut=debut, fin=fin, motif=motif)


def delete_absence(*, user: User, absence_id: int) -> bool:
    """Delete one of ``user``'s own absences; False when they have none of that id
    (another's absence is never touched)."""
    deleted, _per_model = Absence.objects.filter(pk=absence_id, utilisateur=user).delete()
    return bool(deleted)
