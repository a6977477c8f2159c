"""A user's email preferences."""

from __future__ import annotations

from core.models import User
from core.models.notifications import EVENT_TYPES


def save_email_preferences(
    *,
    user: User,
    email_alerts: bool | None,
    email_summary: bool | None,
    muted_events: list[str] | None = None,
) -> None:
    """Save the choices; ``None`` means "the administrators' default" for the two
    emails, "unchanged" for the event types switched off."""
    user.email_alerts = email_alerts
    user.email_summary = email_summary
    fields = ["email_alerts", "email_summary"]
    if muted_events is not None:
        user.muted_events = sorted(set(muted_events) & EVENT_TYPES)
        fields.append("muted_events")
    user.save(update_fields=fields)
