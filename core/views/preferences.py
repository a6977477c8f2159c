"""The user's email preferences (also the target of the List-Unsubscribe header)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import ApiTokenForm
from core.models import NotificationDefaults, NotificationTache, User
from core.models.users import DIGEST_HOURS
from core.selectors.api_tokens import tokens_of
from core.selectors.calendar_feeds import feed_of
from core.selectors.projects import leads_a_project
from core.services.api_tokens import NewToken
from core.services.preferences import save_email_preferences
from core.views.http import current_user

DEFAULT, ON, OFF = "default", "on", "off"
Type = NotificationTache.Type
# What the events say, as the person told reads it.
EVENT_CHOICES = [
    (Type.BLOCAGE.value, gettext_lazy("reports a blockage on a task of a project I lead")),
    (Type.DEBLOCAGE.value, gettext_lazy("lifts the blockage of one of my tasks")),
    (Type.ASSIGNATION.value, gettext_lazy("gives me a task")),
    (
        Type.ECHEANCE_MODIFIEE.value,
        gettext_lazy("changes the due date of one of my tasks or of a project I lead"),
    ),
    (Type.REOUVERTURE.value, gettext_lazy("re-opens one of my tasks or one of a project I lead")),
]


def _choices(default_on: bool) -> list[tuple[str, str]]:
    default_label = _("Default (currently on)") if default_on else _("Default (currently off)")
    return [(DEFAULT, default_label), (ON, _("On")), (OFF, _("Off"))]


def _to_choice(value: bool | None) -> str:
    return DEFAULT if value is None else (ON if value else OFF)


def _from_choice(choice: str) -> bool | None:
    return None if choice == DEFAULT else choice == ON


class EmailPreferencesForm(forms.Form):
    user: User
    email_alerts = forms.ChoiceField(
        label=gettext_lazy("Deadline alert emails"),
        help_text=gettext_lazy(
            "One email listing your new alerts, after the morning check; and one "
            "listing the changes below, at most every five minutes."
        ),
        widget=forms.RadioSelect,
    )
    email_summary = forms.ChoiceField(
        label=gettext_lazy("Daily summary email"),
        help_text=gettext_lazy("For project leads: the state of your projects every morning."),
        widget=forms.RadioSelect,
    )
    email_hour = forms.TypedChoiceField(
        label=gettext_lazy("Alert emails and daily summary come"),
        help_text=gettext_lazy(
            "Right after the morning check (at 8:00 unless the administrators changed it), "
            "or once a day as a digest at the hour you choose."
        ),
        choices=[
            ("", gettext_lazy("right after the morning check")),
            *[
                (hour, gettext_lazy("at %(hour)s") % {"hour": f"{hour:02d}:00"})
                for hour in DIGEST_HOURS
            ],
        ],
        coerce=int,
        empty_value=None,
        required=False,
    )
    email_working_days_only = forms.BooleanField(
        label=gettext_lazy("On working days only"),
        help_text=gettext_lazy(
            "No alert email nor summary on Saturdays, Sundays and the organisation's "
            "non-working days (the alerts stay in your notifications)."
        ),
        required=False,
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Tell me when someone else"),
        help_text=gettext_lazy(
            "In your notifications, and by email if you receive alert emails. "
            "You are never told of your own changes."
        ),
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("email_hour", "email_working_days_only"):  # named by their legend
            self.fields[name].widget.attrs["aria-labelledby"] = f"id_{name}_legend"
        alerts = self.fields["email_alerts"]
        summary = self.fields["email_summary"]
        assert isinstance(alerts, forms.ChoiceField) and isinstance(summary, forms.ChoiceField)
        defaults = NotificationDefaults.current()
        alerts.choices = _choices(defaults.alert_emails)
        summary.choices = _choices(defaults.summary_emails)

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> EmailPreferencesForm:
        initial = {
            "email_alerts": _to_choice(user.email_alerts),
            "email_summary": _to_choice(user.email_summary),
            "email_hour": user.email_hour,
            "email_working_days_only": user.email_working_days_only,
            "events": [kind for kind, _label in EVENT_CHOICES if user.wants_event(kind)],
        }
        form = cls(data, initial=initial)
        if not leads_a_project(user=user):  # the summary is for project leads only
            del form.fields["email_summary"]
        form.user = user
        return form

    def choices(self) -> dict[str, Any]:
        """The validated choices, as the service takes them."""
        return {
            "email_alerts": _from_choice(self.cleaned_data["email_alerts"]),
            "email_summary": (
                _from_choice(self.cleaned_data["email_summary"])
                if "email_summary" in self.fields
                else self.user.email_summary
            ),
            "muted_events": [
                kind for kind, _label in EVENT_CHOICES if kind not in self.cleaned_data["events"]
            ],
            "email_hour": self.cleaned_data["email_hour"],
            "email_working_days_only": self.cleaned_data["email_working_days_only"],
        }


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        form = EmailPreferencesForm.for_user(user, request.POST)
        if form.is_valid():
            save_email_preferences(user=user, **form.choices())
            messages.success(request, _("Your email preferences are saved."))
            return redirect("core:preferences")
        return render_preferences(request, user=user, form=form)
    return render_preferences(request, user=user)


def render_preferences(
    request: HttpRequest,
    *,
    user: User,
    form: EmailPreferencesForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: NewToken | None = None,
    new_feed_url: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; ``new_token``'s secret is in this answer only (core.views.api_tokens),
    and so is ``new_feed_url`` (core.views.calendar_feed)."""
    context = {
        "form": form or EmailPreferencesForm.for_user(user),
        "has_email": bool(user.email),
        "tokens": tokens_of(user=user),
        "token_form": token_form or ApiTokenForm(prefix="jeton"),
        "new_token": new_token,
        "calendar_feed": feed_of(user=user),
        "new_feed_url": new_feed_url,
    }
    return render(request, "core/preferences.html", context, status=status)
