"""Bounded pages: 50 rows unless ``page_size`` asks for another number, 200 at most."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NotificationPages(CursorPagination):
    """By key, as the notification centre: a deep page costs what the first does."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-date_creation", "-id")  # the index notif_destinataire_idx
