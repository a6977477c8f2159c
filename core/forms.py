"""Forms of the web pages; every message a user reads goes through gettext."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import NotificationTache, Projet, Tache, User
from core.selectors.access import active_membership
from core.selectors.notifications import ALL, UNREAD
from core.services.password_reset import request_password_reset


def assignable_users(*, projet: Projet, today: datetime.date) -> QuerySet[User]:
    """The chef de projet and the project's current members: who may own a task."""
    members = projet.adhesions.filter(active_membership(today=today)).values("utilisateur")
    return User.objects.filter(
        Q(pk=projet.chef_de_projet_id) | Q(pk__in=members), is_active=True
    ).order_by("last_name", "first_name", "username")


class TacheForm(forms.ModelForm):
    """Create or edit a task of one project (its chef de projet only)."""

    class Meta:
        model = Tache
        fields = [
            "nom",
            "description",
            "etape",
            "responsable",
            "statut",
            "priorite",
            "date_echeance",
        ]
        widgets = {
            "date_echeance": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, projet: Projet, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projet = projet
        self.today = today
        etape, responsable = self.fields["etape"], self.fields["responsable"]
        assert isinstance(etape, forms.ModelChoiceField)
        assert isinstance(responsable, forms.ModelChoiceField)
        etape.queryset = projet.etapes.order_by("ordre")
        etape.error_messages["invalid_choice"] = gettext_lazy(
            "This phase does not belong to the project."
        )
        responsable.queryset = assignable_users(projet=projet, today=today)
        responsable.error_messages["invalid_choice"] = gettext_lazy(
            "The owner must be a member of the project or its project lead."
        )

    def clean_date_echeance(self) -> datetime.date | None:
        due = self.cleaned_data.get("date_echeance")
        start = self.projet.date_debut
        if due is not None and start is not None and due < start:
            raise forms.ValidationError(
                _("The due date cannot be before the project start date (%(date)s)."),
                code="before_project_start",
                params={"date": formats.date_format(start, "SHORT_DATE_FORMAT")},
            )
        return due

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        due = cleaned.get("date_echeance")
        etape = cleaned.get("etape")
        if due is not None and etape is not None and etape.date_fin_prevue is not None:
            self._check_within_phase(due, etape.date_fin_prevue)
        critical = cleaned.get("priorite") == Tache.Priorite.CRITIQUE
        if critical and due is None and cleaned.get("statut") in Tache.OPEN_STATUTS:
            self.add_error(
                "date_echeance",
                forms.ValidationError(
                    _("A critical task needs a due date."), code="critical_without_due_date"
                ),
            )
        return cleaned

    def _check_within_phase(self, due: datetime.date, phase_end: datetime.date) -> None:
        if due > phase_end:
            message = _("The due date cannot be after the end of the phase (%(date)s).")
            params = {"date": formats.date_format(phase_end, "SHORT_DATE_FORMAT")}
            self.add_error(
                "date_echeance",
                forms.ValidationError(message, code="after_phase_end", params=params),
            )

    def save(self, commit: bool = True) -> Tache:
        tache: Tache = super().save(commit=False)
        tache.projet = self.projet
        # The completion date feeds "done this week"; keep it in step with the status.
        if tache.statut == Tache.Statut.TERMINEE and tache.date_fin_reelle is None:
            tache.date_fin_reelle = self.today
        elif tache.statut != Tache.Statut.TERMINEE:
            tache.date_fin_reelle = None
        if commit:
            tache.save()
        return tache


class NotificationFilterForm(forms.Form):
    """The notification centre's filters, from the query string."""

    statut = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=[(ALL, gettext_lazy("All")), (UNREAD, gettext_lazy("Unread"))],
        required=False,
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=[("", gettext_lazy("All types")), *NotificationTache.Type.choices],
        required=False,
    )

    def filters(self) -> dict[str, str]:
        """Valid filters, or none at all: a bad link shows everything, with the error."""
        if not self.is_valid():
            return {"status": ALL, "type_notification": ""}
        return {
            "status": self.cleaned_data["statut"] or ALL,
            "type_notification": self.cleaned_data["type"],
        }


class OutboxPasswordResetForm(PasswordResetForm):
    """Password reset through the outbox, like every email (stored, sent by the
    worker, retried when SMTP is down), but with no secret stored: the row holds
    the recipient only and the sender mints the link when it sends. At most one
    email per account per quarter of an hour; the page answers the same whether
    the address has an account or not."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django's arguments (templates, domain, token generator) are not used:
        # the email is the "password_reset" triplet and its link is on SITE_URL.
        for user in self.get_users(self.cleaned_data["email"]):
            request_password_reset(user=user)
