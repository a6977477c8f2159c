"""Template filters and tags of the application's pages and emails."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django import template
from django.db.models import Field, Model
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import dates, paths
from core.alert_policy_text import Clause, policy_clauses
from core.models import Tache, User
from core.selectors.access import can_update_progress

if TYPE_CHECKING:
    from core.services.alert_rules import AlertPolicy

register = template.Library()


@register.simple_tag
def path_to(name: str, pk: int) -> str:
    """``{% url name pk %}`` for the URLs that take one id, as rows of lists use
    them (``core.paths``: reversed once per name)."""
    return paths.path_to(name, pk)


@register.filter
def label(obj: Model, field_name: str) -> str:
    """``obj.get_<field_name>_display()``, for rows of lists: Django's method
    rebuilds the field's choices dict on every call (about 25 µs)."""
    field = obj._meta.get_field(field_name)
    assert isinstance(field, Field)  # a column of the model, not a reverse relation
    value = getattr(obj, field.attname)
    return str(_choice_labels(field).get(value, value))


@functools.cache
def _choice_labels(field: Field[Any, Any]) -> dict[Any, Any]:
    return dict(field.flatchoices)  # lazy labels: translated when rendered


@register.filter
def offers_actions_to(tache: Tache, user: User) -> bool:
    """Whether an alert about ``tache`` shows ``user`` "Marquer terminée" and
    "Signaler un blocage": an open task whose status they may change."""
    return tache.is_open and can_update_progress(user=user, tache=tache)


@register.simple_tag
def due_date(tache: Tache, today: datetime.date) -> SafeString:
    """A task's due date, flagged "en retard" or "aujourd'hui" while it is open."""
    due = tache.date_echeance
    if due is None:
        return mark_safe('<span class="muted">—</span>')
    text = formats.date_format(due, "SHORT_DATE_FORMAT")
    if tache.is_open and due < today:
        return format_html('<span class="pill late">{} · {}</span>', text, _("late"))
    if tache.is_open and due == today:
        return format_html('<span class="pill today">{} · {}</span>', text, _("today"))
    return format_html("{}", text)


@register.filter
def days_late(due: datetime.date | None, today: datetime.date) -> int:
    """How many days ``due`` is behind ``today`` (0 when not late)."""
    if due is None or due >= today:
        return 0
    return (today - due).days


@register.filter
def lateness(due: datetime.date | None, today: datetime.date) -> str:
    """ "3 jours de retard" for a late date, "" otherwise."""
    days = days_late(due, today)
    if not days:
        return ""
    return ngettext("%(days)d day late", "%(days)d days late", days) % {"days": days}


@register.filter
def long_date(value: datetime.date | None, with_weekday: bool = False) -> str:
    """A date written out: "1er décembre 2026", "mercredi 25 novembre 2026"."""
    return "" if value is None else dates.long_date(value, with_weekday=with_weekday)


@register.filter
def iso_datetime(value: datetime.datetime | None) -> str:
    """A ``<time datetime>`` value: ISO 8601 to the second (HTML allows at most three
    digits of a second's fraction, Python writes six)."""
    if value is None:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()


# The portfolio's trend chart, in SVG user units (it scales with its container).
CHART_BAR, CHART_GAP, CHART_PLOT, CHART_TOP, CHART_BOTTOM = 28, 12, 80, 16, 18


@register.inclusion_tag("core/partials/trend_chart.html")
def trend_chart(days: list[datetime.date], values: list[int], label: str) -> dict[str, Any]:
    """Late tasks per week as a bar chart in inline SVG drawn here (no script, no
    style attribute: a strict CSP allows it), each bar with its count and its date,
    and the same figures as a table: the chart's text alternative."""
    top = max(values, default=0) or 1
    step = CHART_BAR + CHART_GAP
    baseline = CHART_TOP + CHART_PLOT
    bars = []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        height = round(value * CHART_PLOT / top)
        bars.append(
            {
                "x": CHART_GAP // 2 + i * step,
                "centre": CHART_GAP // 2 + i * step + CHART_BAR // 2,
                "y": baseline - height,
                "height": height,
                "value": value,
                "day": day,
            }
        )
    return {
        "bars": bars,
        "bar_width": CHART_BAR,
        "label": label,
        "width": len(values) * step,
        "height": baseline + CHART_BOTTOM,
        "baseline": baseline,
        "summary": ", ".join(
            f"{formats.date_format(day, 'SHORT_DATE_FORMAT')}\u00a0: {value}"
            for day, value in zip(days, values, strict=True)
        ),
    }


@register.simple_tag
def sparkline(values: list[int], label: str = "") -> SafeString:
    """A small bar chart as inline SVG (attributes only: allowed by a strict CSP)."""
    width, height, gap = 8, 24, 2
    top = max(values, default=0) or 1
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                i * (width + gap),
                height - max(1, round(v * height / top)),
                width,
                max(1, round(v * height / top)),
                v,
            )
            for i, v in enumerate(values)
        ),
    )
    total_width = len(values) * (width + gap) - gap
    figures = " · ".join(str(v) for v in values)
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}">{}</svg>',
        total_width,
        height,
        total_width,
        height,
        f"{label}\u00a0: {figures}" if label else figures,
        bars,
    )


@register.simple_tag
def alert_policy_clauses(
    policy: AlertPolicy, inherited: Collection[str], escalation: int | None
) -> list[Clause]:
    """``{% alert_policy_clauses policy inherited escalation as clauses %}``: the
    project's alert policy in words, each clause saying whether it is the default."""
    return policy_clauses(policy, inherited=inherited, escalation=escalation)
