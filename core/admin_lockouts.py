"""Sign-in lockouts in the admin: django-axes' failed-attempt list, with an unlock
action and a status an administrator reads at a glance (imported by core/admin.py)."""

from __future__ import annotations

import datetime
import logging

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)


def lock_ends_at(attempt: AccessAttempt) -> datetime.datetime:
    """When the attempts stop counting (axes ignores them after the cool-off)."""
    return attempt.attempt_time + settings.AXES_COOLOFF_TIME


def is_locked_out(attempt: AccessAttempt, *, now: datetime.datetime) -> bool:
    return (
        attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT and lock_ends_at(attempt) > now
    )


@admin.action(description=_("Unlock the selected sign-ins"), permissions=["delete"])
def unlock(
    modeladmin: admin.ModelAdmin[AccessAttempt],
    request: HttpRequest,
    queryset: QuerySet[AccessAttempt],
) -> None:
    """Forget the failed attempts: the account may sign in again from that address."""
    pairs = list(queryset.values_list("username", "ip_address"))
    count, _deleted = queryset.delete()
    for username, ip_address in pairs:
        logger.warning("Sign-in unlocked by %s: %s from %s", request.user, username, ip_address)
    modeladmin.message_user(
        request,
        ngettext("%(count)d sign-in unlocked.", "%(count)d sign-ins unlocked.", count)
        % {"count": count},
        messages.SUCCESS,
    )


class LockoutAdmin(AccessAttemptAdmin):
    list_display = [
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "lock_status",
    ]
    list_filter = ["attempt_time"]
    actions = [unlock]

    @admin.display(description=_("status"))
    def lock_status(self, obj: AccessAttempt) -> str:
        now = timezone.now()
        if lock_ends_at(obj) <= now:
            return str(_("Expired: no longer counts"))
        if is_locked_out(obj, now=now):
            until = timezone.localtime(lock_ends_at(obj))
            return str(_("Locked until %(time)s")) % {
                "time": formats.time_format(until, "TIME_FORMAT")
            }
        remaining = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        return ngettext("%(count)d attempt left", "%(count)d attempts left", remaining) % {
            "count": remaining
        }


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LockoutAdmin)
