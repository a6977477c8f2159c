"""The admin of the team channels and of their messages' outbox.

A channel's URL is a secret: no admin page shows it, lists and forms show its
masked form; the label and the active flag are all that can be changed (a
channel is added in the application, where the URL is checked). The messages'
outbox is read-only, with "resend" for the failed ones, as the emails' outbox.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_actions import OutboxAdmin
from core.models import Canal, MessageCanal
from core.services.channel_delivery import resend


@admin.register(Canal)
class CanalAdmin(admin.ModelAdmin):
    list_display = ("nom", "url_masquee", "projet", "utilisateur", "actif", "date_creation")
    list_filter = ("actif",)
    search_fields = ("nom", "projet__nom", "utilisateur__username")
    list_select_related = ("projet", "utilisateur")
    fields = ("nom", "url_masquee", "projet", "utilisateur", "actif", "cree_par", "date_creation")
    readonly_fields = ("url_masquee", "projet", "utilisateur", "cree_par", "date_creation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.action(description=_("Resend the selected messages"), permissions=["resend"])
def resend_messages(
    modeladmin: admin.ModelAdmin[MessageCanal],
    request: HttpRequest,
    queryset: QuerySet[MessageCanal],
) -> None:
    """Failed (or waiting) messages back in the queue with fresh attempts."""
    selected = list(queryset.values_list("id", flat=True))
    count = resend(ids=selected)
    modeladmin.message_user(
        request,
        ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
        % {"count": count},
        messages.SUCCESS,
    )
    if count < len(selected):
        modeladmin.message_user(
            request,
            _("Messages already posted or being posted were left as they are."),
            messages.WARNING,
        )


@admin.register(MessageCanal)
class MessageCanalAdmin(OutboxAdmin):
    list_display = ("title", "canal", "kind", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("title", "canal__nom", "dedup_key", "last_error")
    list_select_related = ("canal",)
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status",
        "canal",
        "title",
        "body",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "dedup_key",
    )
    readonly_fields = fields
    actions = [resend_messages]
