"""Admin actions of the outboxes (wired in core/admin.py's OutboundEmailAdmin and
core/admin_channels.py's MessageCanalAdmin), and what both admins share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.models import MessageCanal, OutboundEmail
from core.services import channel_delivery, outbox


@admin.action(description=_("Resend the selected emails"), permissions=["resend"])
def resend_emails(
    modeladmin: admin.ModelAdmin[OutboundEmail],
    request: HttpRequest,
    queryset: QuerySet[OutboundEmail],
) -> None:
    """Put failed (or waiting) emails back in the queue with fresh attempts."""
    _resend(
        modeladmin,
        request,
        queryset,
        outbox.resend,
        lambda count: ngettext(
            "%(count)d email queued again.", "%(count)d emails queued again.", count
        ),
        str(_("Emails already sent or being sent were left as they are.")),
    )


@admin.action(description=_("Resend the selected messages"), permissions=["resend"])
def resend_messages(
    modeladmin: admin.ModelAdmin[MessageCanal],
    request: HttpRequest,
    queryset: QuerySet[MessageCanal],
) -> None:
    """Put failed (or waiting) channel messages back in the queue with fresh attempts."""
    _resend(
        modeladmin,
        request,
        queryset,
        channel_delivery.resend,
        lambda count: ngettext(
            "%(count)d message queued again.", "%(count)d messages queued again.", count
        ),
        str(_("Messages already posted or being posted were left as they are.")),
    )


def _resend(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    resend: Callable[..., int],
    queued_again: Callable[[int], str],
    left_alone: str,
) -> None:
    selected = list(queryset.values_list("id", flat=True))
    count = resend(ids=selected)
    modeladmin.message_user(request, queued_again(count) % {"count": count}, messages.SUCCESS)
    if count < len(selected):
        modeladmin.message_user(request, left_alone, messages.WARNING)


class OutboxAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the application and sent by the worker; the
    only action is "resend" (the model's "change" permission)."""

    # What every outbox row shows after its own fields (core.models.outbox.OutboxRow).
    ROW_FIELDS = (
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "dedup_key",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
