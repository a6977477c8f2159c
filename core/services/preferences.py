"""A user's email preferences."""

from __future__ import annotations

from core.models import User


def save_email_preferences(
    *, user: User, email_alerts: bool | None, email_summary: bool | None
) -> None:
    """Save both choices; ``None`` means "the administrators' default"."""
    user.email_alerts = email_alerts
    user.email_summary = email_summary
    user.save(update_fields=["email_alerts", "email_summary"])
