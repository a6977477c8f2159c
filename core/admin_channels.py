"""The admin of the team channels and of their messages' outbox.

A channel's URL is a secret: no admin page shows it, lists and forms show its
masked form; the label and the active flag are all that can be changed (a
channel is added in the application, where the URL is checked). The messages'
outbox is read-only, with "resend" for the failed ones, as the emails' outbox.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.admin_actions import OutboxAdmin, resend_messages
from core.models import Canal, MessageCanal


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
        *OutboxAdmin.ROW_FIELDS,
    )
    readonly_fields = fields
    actions = [resend_messages]
