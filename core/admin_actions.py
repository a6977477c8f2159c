"""Admin actions of the outboxes (wired in core/admin.py's OutboundEmailAdmin and
core/admin_channels.py's MessageCanalAdmin), and what both admins share."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.models import OutboundEmail
from core.services.outbox import resend


@admin.action(description=_("Resend the selected emails"), permissions=["resend"])
def resend_emails(
    modeladmin: admin.ModelAdmin[OutboundEmail],
    request: HttpRequest,
    queryset: QuerySet[OutboundEmail],
) -> None:
    """Put failed (or waiting) emails back in the queue with fresh attempts."""
    selected = list(queryset.values_list("id", flat=True))
    count = resend(ids=selected)
    modeladmin.message_user(
        request,
        ngettext("%(count)d email queued again.", "%(count)d emails queued again.", count)
        % {"count": count},
        messages.SUCCESS,
    )
    if count < len(selected):
        modeladmin.message_user(
            request,
            _("Emails already sent or being sent were left as they are."),
            messages.WARNING,
        )


class OutboxAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the application and sent by the worker; the
    only action is "resend" (the model's "change" permission)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
