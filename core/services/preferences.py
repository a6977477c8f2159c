"""A user's email preferences."""

from __future__ import annotations

from core.models import User
from core.models.notifications import EVENT_TYPES
from core.models.users import DIGEST_HOURS


def save_email_preferences(
    *,
    user: User,
    email_alerts: bool | None,
    email_summary: bool | None,
    muted_events: list[str] | None = None,
    email_hour: int | None = None,
    email_working_days_only: bool = False,
) -> None:
    """Save the choices; ``None`` means "the administrators' default" for the two
    emails, "unchanged" for the event types switched off, "right after the
    morning check" for the hour (else a digest at that hour)."""
    if email_hour is not None and email_hour not in DIGEST_HOURS:
        raise ValueError(
            f"No digest at {email_hour}: from {DIGEST_HOURS[0]} to {DIGEST_HOURS[-1]}."
        )
    user.email_alerts = email_alerts
    user.email_summary = email_summary
    user.email_hour = email_hour
    user.email_working_days_only = email_working_days_only
    fields = ["email_alerts", "email_summary", "email_hour", "email_working_days_only"]
    if muted_events is not None:
        user.muted_events = sorted(set(muted_events) & EVENT_TYPES)
        fields.append("muted_events")
    user.save(update_fields=fields)
