"""How much one person may write into the tasks' histories.

Every update that adds an entry to a task's history (the owner's progress and
comments, a reported block, "Marquer terminée", the lead's edit with its reason)
goes through ``require_allowance`` first: at most ``TASK_UPDATE_LIMIT`` entries
by one author on one task per ``TASK_UPDATE_WINDOW_MINUTES``, and at most
``TASK_UPDATE_DAILY_LIMIT`` over 24 hours on all tasks. What others load (a task's
page, the lead's summary) cannot be flooded by one account.

Counted in the database from the history itself (no counter to keep in step), in
the writer's transaction after the task row is locked: two updates of one task
cannot both pass the last free slot. Settings are read on each call.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from core.models import User
from core.selectors.history import recent_entries

DAY = datetime.timedelta(days=1)


class TooManyUpdates(Exception):
    """The author reached a limit; the message says which, in the user's language."""


def require_allowance(*, author: User, tache_id: int, now: datetime.datetime) -> None:
    """Raise ``TooManyUpdates`` if ``author`` may not add an entry to the task now."""
    window = datetime.timedelta(minutes=settings.TASK_UPDATE_WINDOW_MINUTES)
    counts = recent_entries(
        author=author, tache_id=tache_id, task_since=now - window, all_since=now - DAY
    )
    if counts.on_task >= settings.TASK_UPDATE_LIMIT:
        raise TooManyUpdates(
            _(
                "Too many updates of this task: at most %(limit)d every %(minutes)d minutes. "
                "Nothing was saved; try again in a few minutes."
            )
            % {"limit": settings.TASK_UPDATE_LIMIT, "minutes": settings.TASK_UPDATE_WINDOW_MINUTES}
        )
    if counts.on_all >= settings.TASK_UPDATE_DAILY_LIMIT:
        raise TooManyUpdates(
            _(
                "Too many updates in 24 hours: at most %(limit)d. "
                "Nothing was saved; try again later."
            )
            % {"limit": settings.TASK_UPDATE_DAILY_LIMIT}
        )
