"""Who may use which endpoint; the rules themselves are core.selectors.access."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.selectors.access import READ_EVERYTHING


class ReadsPortfolio(BasePermission):
    """The DSI's portfolio: ``core.view_portfolio`` only."""

    message = _("The portfolio is reserved for the IT department's portfolio managers.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.has_perm(READ_EVERYTHING))
