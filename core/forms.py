"""Forms of the web pages; every message a user reads goes through gettext."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.alert_policy_text import day_list, repeat_text
from core.jobs import dispatch
from core.ldap_backend import directory_was_unavailable
from core.models import (
    Etape,
    MembreProjet,
    NotificationDefaults,
    NotificationTache,
    Projet,
    Tache,
    User,
)
from core.models.fields import ladder_days
from core.models.projects import REPEAT_CHOICES
from core.selectors.access import active_membership
from core.selectors.notifications import ALL, UNREAD
from core.selectors.portfolio import DEFAULT_SORT, PortfolioFilters
from core.selectors.projects import NONE, OPEN_TASKS, ProjectDetail, TaskFilters, find_colleague
from core.services.absences import check_absence_dates
from core.services.alert_policy import PROJECT_POLICY_FIELDS
from core.services.channel_urls import MAX_URL_LENGTH, plugin_for
from core.services.projects import PHASE_FIELDS, PROJECT_FIELDS, check_dates
from core.services.task_updates import OWNER_STATUTS, check_snooze
from core.tasks import request_password_reset as password_reset_job
from core.text import TypedTextField


def assignable_users(*, projet: Projet, today: datetime.date) -> QuerySet[User]:
    """The chef de projet and the project's current members: who may own a task."""
    members = projet.adhesions.filter(active_membership(today=today)).values("utilisateur")
    return User.objects.filter(
        Q(pk=projet.chef_de_projet_id) | Q(pk__in=members), is_active=True
    ).order_by("last_name", "first_name", "username")


class TacheForm(forms.ModelForm):
    """Create or edit a task of one project (its chef de projet only).

    Dates outside the project or the phase are warnings shown after saving, never
    errors: they must not stop a lead from closing or re-opening a task. A due date
    already past on a new task asks for a confirmation.
    """

    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("Reason for the change"),
        help_text=gettext_lazy(
            "Kept in the task's history (required to block a task or push its due date back)."
        ),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_past_due_date = forms.BooleanField(
        label=gettext_lazy("Create the task with this past due date"), required=False
    )

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
            "avancement",
        ]
        widgets = {
            "date_echeance": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "avancement": forms.NumberInput(attrs={"min": 0, "max": 100, "step": 5}),
        }

    def __init__(self, *args: Any, projet: Projet, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projet = projet
        self.today = today
        self.asks_confirmation = False
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

        # Left empty, the progress keeps its value (0 for a new task).
        self.fields["avancement"].required = False

    @property
    def is_new(self) -> bool:
        return self.instance.pk is None

    def clean_avancement(self) -> int:
        value = self.cleaned_data.get("avancement")
        return self.instance.avancement if value is None else value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        due = cleaned.get("date_echeance")
        critical = cleaned.get("priorite") == Tache.Priorite.CRITIQUE
        if critical and due is None and cleaned.get("statut") in Tache.OPEN_STATUTS:
            self.add_error(
                "date_echeance",
                forms.ValidationError(
                    _("A critical task needs a due date."), code="critical_without_due_date"
                ),
            )
        if self.is_new and due is not None and due < self.today:
            self._confirm_past_due_date(due, confirmed=cleaned.get("confirm_past_due_date"))
        # The instance still holds the stored values here (the form copies its
        # data onto it after clean()).
        newly_blocked = not self.is_new and (
            cleaned.get("statut") == Tache.Statut.BLOQUEE != self.instance.statut
        )
        reason = (cleaned.get("motif") or "").strip()
        if newly_blocked and not reason:
            self.add_error(
                "motif",
                forms.ValidationError(_("Say what blocks the task."), code="reason_required"),
            )
        elif self._pushes_back(due) and not reason:
            self.add_error(
                "motif",
                forms.ValidationError(
                    _("Say why the due date is pushed back."), code="slip_reason_required"
                ),
            )
        return cleaned

    def _pushes_back(self, due: datetime.date | None) -> bool:
        """A later due date than the stored one (what the history counts as a slip)."""
        stored = None if self.is_new else self.instance.date_echeance
        return stored is not None and due is not None and due > stored

    def _confirm_past_due_date(self, due: datetime.date, *, confirmed: bool | None) -> None:
        if confirmed:
            return
        self.asks_confirmation = True
        self.add_error(
            "date_echeance",
            forms.ValidationError(
                _("This due date is already past (%(date)s): confirm to create the task anyway."),
                code="past_due_date",
                params={"date": formats.date_format(due, "SHORT_DATE_FORMAT")},
            ),
        )


def comment_field(help_text: Any) -> TypedTextField:
    """An optional comment kept in the task's history (1,000 characters)."""
    return TypedTextField(
        multiline=True,
        label=gettext_lazy("Comment"),
        help_text=help_text,
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TaskProgressForm(forms.Form):
    """What the owner of a task changes: its status, its progress, a comment."""

    statut = forms.ChoiceField(label=gettext_lazy("Status"))
    avancement = forms.IntegerField(
        label=gettext_lazy("Progress (%)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 5}),
    )
    commentaire = comment_field(
        gettext_lazy("Kept in the task's history; required to report a block.")
    )

    def __init__(self, *args: Any, tache: Tache, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"statut": tache.statut, "avancement": tache.avancement})
        super().__init__(*args, **kwargs)
        self.tache = tache
        statut = self.fields["statut"]
        assert isinstance(statut, forms.ChoiceField)
        statut.choices = [(s.value, s.label) for s in OWNER_STATUTS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        blocking = cleaned.get("statut") == Tache.Statut.BLOQUEE != self.tache.statut
        if blocking and not (cleaned.get("commentaire") or "").strip():
            self.add_error(
                "commentaire",
                forms.ValidationError(_("Say what blocks the task."), code="reason_required"),
            )
        return cleaned


class BlockForm(forms.Form):
    """Report a block from an alert: the reason is required."""

    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("What blocks the task?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class UnblockForm(forms.Form):
    """Lift a blockage: a comment, if any, goes to the history and to the owner."""

    commentaire = comment_field(gettext_lazy("Optional: how the blockage was solved."))


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SnoozeForm(forms.Form):
    """The owner snoozes a task's advance alerts until a date, saying why."""

    jusqu_au = forms.DateField(label=gettext_lazy("Snooze until (included)"), widget=_date_input())
    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("Why?"),
        help_text=gettext_lazy("The project lead sees it on the task's page."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, tache: Tache, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tache, self.today = tache, today

    def clean_jusqu_au(self) -> datetime.date:
        until: datetime.date = self.cleaned_data["jusqu_au"]
        check_snooze(tache=self.tache, until=until, today=self.today)
        return until


class AbsenceForm(forms.Form):
    """A user records an absence: from, to (both included), a reason if they wish."""

    debut = forms.DateField(label=gettext_lazy("From"), widget=_date_input())
    fin = forms.DateField(label=gettext_lazy("To (included)"), widget=_date_input())
    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Optional; only you and the administrators see it."),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        debut, fin = cleaned.get("debut"), cleaned.get("fin")
        if debut and fin:
            try:
                check_absence_dates(debut=debut, fin=fin)
            except forms.ValidationError as error:
                self.add_error("fin", error)
        return cleaned


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


class ProjectTaskFilterForm(forms.Form):
    """The project page's task filters, from the query string: status (or every open
    task), owner, phase, late only. The choices are the project's own people and
    phases, already on the page: no query of their own."""

    statut = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    responsable = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    etape = forms.ChoiceField(label=gettext_lazy("Phase"), required=False)
    retard = forms.BooleanField(label=gettext_lazy("Late only"), required=False)

    def __init__(self, *args: Any, detail: ProjectDetail, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = [detail.projet.chef_de_projet, *(a.utilisateur for a in detail.adhesions)]
        self.fields["statut"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("All statuses")),
            (OPEN_TASKS, gettext_lazy("Open tasks")),
            *Tache.Statut.choices,
        ]
        self.fields["responsable"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("Everyone")),
            (NONE, gettext_lazy("Nobody")),
            *((str(user.pk), str(user)) for user in dict.fromkeys(people)),
        ]
        self.fields["etape"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("All phases")),
            (NONE, gettext_lazy("No phase")),
            *((str(etape.pk), etape.nom) for etape in detail.etapes),
        ]

    def filters(self) -> TaskFilters:
        """Valid filters, or none: a stale link shows every task, with the error."""
        if not self.is_valid():
            return TaskFilters()
        data = self.cleaned_data
        return TaskFilters(
            statut=data["statut"],
            responsable=data["responsable"],
            etape=data["etape"],
            late_only=data["retard"],
        )


class ProjectSearchForm(forms.Form):
    """The project list's search, from the query string: a part of a project's name
    or code."""

    q = TypedTextField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("A part of the project's name or code."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def search(self) -> str:
        """The text searched, or none: a bad link lists every project, with the error."""
        return self.cleaned_data["q"] if self.is_valid() else ""


class PortfolioFilterForm(forms.Form):
    """The portfolio's filters and order, from the query string: a lead (typed: an
    organisation has thousands), a project status, an order."""

    chef = forms.CharField(
        label=gettext_lazy("Project lead"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Their username or their email address."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    statut = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("All statuses")), *Projet.Statut.choices],
        required=False,
    )
    tri = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        choices=[
            ("retard", gettext_lazy("the most late first")),
            ("glissements", gettext_lazy("the most slipped due dates first")),
            ("chef", gettext_lazy("project lead")),
            ("nom", gettext_lazy("name")),
        ],
        required=False,
    )

    def clean_chef(self) -> User | None:
        login = self.cleaned_data["chef"].strip()
        return find_colleague(login=login, active_only=False) if login else None

    def filters(self) -> PortfolioFilters:
        """Valid filters, or none: a bad link shows the whole portfolio, with the error."""
        if not self.is_valid():
            return PortfolioFilters()
        chef = self.cleaned_data["chef"]
        return PortfolioFilters(
            lead_id=chef.pk if chef else None,
            statut=self.cleaned_data["statut"],
            sort=self.cleaned_data["tri"] or DEFAULT_SORT,
        )


def _default_label(default: str) -> str:
    """The empty choice: the organisation's default, saying what it is now."""
    return _("Default (%(value)s)") % {"value": default}


def _yes_no_or_default(label: Any, *, default: bool) -> forms.TypedChoiceField:
    """A nullable boolean as "Default (yes)" / "Yes" / "No" (empty: ``None``)."""
    return forms.TypedChoiceField(
        label=label,
        # "True"/"False": how the widget renders the stored value.
        choices=[
            ("", _default_label(_("yes") if default else _("no"))),
            ("True", _("Yes")),
            ("False", _("No")),
        ],
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
    )


class AlertPolicyForm(forms.ModelForm):
    """A project's alert policy; each field left at "Default" (or empty) follows the
    organisation's, and its later changes."""

    class Meta:
        model = Projet
        fields = PROJECT_POLICY_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = NotificationDefaults.current()
        for name in ("alerte_chef_aujourdhui", "alerte_chef_retard"):
            self.fields[name] = _yes_no_or_default(
                self.fields[name].label, default=getattr(defaults, name)
            )
        repeat = self.fields["retard_repetition_jours"]
        assert isinstance(repeat, forms.TypedChoiceField)
        default_repeat = repeat_text(defaults.retard_repetition_jours)
        repeat.choices = [("", _default_label(default_repeat)), *REPEAT_CHOICES]
        days = ladder_days(defaults.alerte_jours)
        self.fields["alerte_jours"].help_text = _(
            "For example 7, 3, 1; 0 for no advance alert. Empty: the organisation's "
            "default, currently %(ladder)s."
        ) % {"ladder": day_list(days) if days else _("none")}
        escalation = self.fields["escalade_jours_ouvres"]
        escalation.widget.attrs["min"] = 1  # the model's bound (the field's says 0)
        escalation.help_text = ngettext(
            "Empty: the organisation's default, currently %(days)d working day.",
            "Empty: the organisation's default, currently %(days)d working days.",
            defaults.escalade_jours_ouvres,
        ) % {"days": defaults.escalade_jours_ouvres}
        stored = self.instance.alerte_jours
        if stored is not None:  # "" is no advance alert: shown "0", never as the default
            self.initial["alerte_jours"] = ", ".join(stored.split(",")) if stored else "0"

    def policy(self) -> dict[str, Any]:
        """The validated choices, as the service takes them (``None``: the default)."""
        return {name: self.cleaned_data[name] for name in PROJECT_POLICY_FIELDS}


class OutboxPasswordResetForm(PasswordResetForm):
    """Password reset through the outbox, like every email (stored, sent by the
    worker, retried when SMTP is down), but with no secret stored: the row holds
    the recipient only and the sender mints the link when it sends. At most one
    email per account per quarter of an hour.

    The page only queues the address: looking up the account and writing the row
    happen in the background (``core.tasks.request_password_reset``), so the page
    takes as long, and answers the same, whether the address has an account or not.
    """

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django's arguments (templates, domain, token generator) are not used:
        # the email is the "password_reset" triplet and its link is on SITE_URL.
        dispatch.after_commit_or_inline(password_reset_job, email=self.cleaned_data["email"])


DIRECTORY_UNAVAILABLE = gettext_lazy(
    "The organisation's directory is not answering: your password cannot be "
    "checked right now. Try again in a few minutes; if it persists, tell the IT "
    "department."
)


class SignInForm(AuthenticationForm):
    """Django's sign-in form; when the directory did not answer, it says so instead
    of "wrong password" (the attempt still counts for the lockout)."""

    def get_invalid_login_error(self) -> forms.ValidationError:
        if directory_was_unavailable(self.request):
            return forms.ValidationError(DIRECTORY_UNAVAILABLE, code="directory_unavailable")
        return super().get_invalid_login_error()


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's sign-in form (staff only), with the same word on the directory."""


# A project, its phases and its members (core.services.projects).


def _model_field(model: type[Any], name: str, **overrides: Any) -> forms.Field:
    """The form field of a model field: its label, bounds and typed-text rules."""
    field = model._meta.get_field(name).formfield(**overrides)
    assert field is not None
    return field


def _login_field(label: Any) -> TypedTextField:
    """A colleague typed by username or email: never a list of every account."""
    return TypedTextField(
        label=label,
        max_length=254,
        help_text=gettext_lazy("Their username or their email address."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class _DatesInOrder(forms.Form):
    """Refuses a planned end before the start, on the end's field."""

    date_fields: tuple[str, str] = ("date_debut", "date_fin_prevue")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = (cleaned.get(name) for name in self.date_fields)
        try:
            check_dates(start, end)
        except forms.ValidationError as error:
            self.add_error(self.date_fields[1], error)
        return cleaned


def _project_fields() -> dict[str, forms.Field]:
    return {
        "nom": _model_field(Projet, "nom"),
        "statut": _model_field(Projet, "statut"),
        "date_debut": _model_field(Projet, "date_debut", widget=_date_input()),
        "date_fin_prevue": _model_field(Projet, "date_fin_prevue", widget=_date_input()),
        "description": _model_field(
            Projet, "description", widget=forms.Textarea(attrs={"rows": 4})
        ),
    }


class ProjectCreateForm(_DatesInOrder):
    """A new project; its lead is its creator unless another colleague is typed."""

    def __init__(self, *args: Any, creator: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"chef": creator.username, "statut": Projet.Statut.EN_COURS})
        super().__init__(*args, **kwargs)
        self.fields["code"] = _model_field(
            Projet,
            "code",
            help_text=gettext_lazy(
                "Letters, digits, hyphens; it cannot be changed once the project is created."
            ),
        )
        self.fields["chef"] = _login_field(gettext_lazy("Project lead"))
        self.fields.update(_project_fields())
        self.order_fields(["code", "nom", "chef"])

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if Projet.objects.filter(code__iexact=code).exists():
            raise forms.ValidationError(
                _("The code %(code)s is already used by another project."),
                code="code_taken",
                params={"code": code},
            )
        return code

    def clean_chef(self) -> User:
        return find_colleague(login=self.cleaned_data["chef"])


class ProjectEditForm(_DatesInOrder):
    """What the lead changes on the project (its code stays as created)."""

    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("Reason for the change"),
        help_text=gettext_lazy("Optional; kept in the project's history."),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, projet: Projet, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(projet, name) for name in PROJECT_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields.update(_project_fields())
        self.order_fields([*PROJECT_FIELDS, "motif"])

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PROJECT_FIELDS}


class PhaseForm(_DatesInOrder):
    """A phase: its name, number (after the last one if left empty) and planned dates."""

    date_fields = ("date_debut_prevue", "date_fin_prevue")

    def __init__(self, *args: Any, etape: Etape | None = None, **kwargs: Any) -> None:
        if etape is not None:
            kwargs.setdefault("initial", {name: getattr(etape, name) for name in PHASE_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["nom"] = _model_field(Etape, "nom")
        self.fields["ordre"] = _model_field(
            Etape,
            "ordre",
            required=etape is not None,
            min_value=1,
            help_text=gettext_lazy("Empty: after the last phase.") if etape is None else "",
        )
        for name in ("date_debut_prevue", "date_fin_prevue"):
            self.fields[name] = _model_field(Etape, name, widget=_date_input())

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PHASE_FIELDS}


class MemberAddForm(forms.Form):
    """A colleague joins the project, typed by username or email."""

    login = _login_field(gettext_lazy("Colleague"))
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=MembreProjet.Role.choices,
        initial=MembreProjet.Role.MEMBRE,
    )
    date_debut = forms.DateField(label=gettext_lazy("Joins on"), widget=_date_input())

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"date_debut": today})
        super().__init__(*args, **kwargs)

    def clean_login(self) -> User:
        return find_colleague(login=self.cleaned_data["login"])


class MemberRemoveForm(forms.Form):
    """A member leaves the project: they keep access until that day, included."""

    date_fin = forms.DateField(
        label=gettext_lazy("Leaves on"),
        help_text=gettext_lazy("They keep access to the project until this day, included."),
        widget=_date_input(),
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"date_fin": today})
        super().__init__(*args, **kwargs)


class HandOverForm(forms.Form):
    """The project goes to another lead, typed by username or email."""

    login = _login_field(gettext_lazy("New project lead"))
    motif = TypedTextField(
        multiline=True,
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Optional; kept in the project's history."),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_login(self) -> User:
        return find_colleague(login=self.cleaned_data["login"])


class ApiTokenForm(forms.Form):
    """A new personal API token: its name says what it is for."""

    nom = TypedTextField(
        label=gettext_lazy("Token name"),
        help_text=gettext_lazy("What the token is for, e.g. “weekly export script”."),
        max_length=100,
    )


# The largest portfolio file accepted (10,000 rows of CSV are about 2 MB).
IMPORT_MAX_BYTES = 10 * 1024 * 1024


class PortfolioImportForm(forms.Form):
    """The spreadsheet to import (previewed before anything is written)."""

    fichier = forms.FileField(
        label=gettext_lazy("Spreadsheet (CSV or XLSX)"),
        help_text=gettext_lazy("At most 10 MB; the header row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_fichier(self) -> Any:
        upload = self.cleaned_data["fichier"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)d MB.")
                % {"size": IMPORT_MAX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload


class ChannelForm(forms.Form):
    """A team channel: its label and its URL, checked with Apprise. The URL is a
    secret: the field never shows it back, not even after an error."""

    nom = TypedTextField(
        label=gettext_lazy("Label"),
        help_text=gettext_lazy("How you recognise it, e.g. “Teams, project room”."),
        max_length=100,
    )
    url = forms.CharField(
        label=gettext_lazy("Channel URL"),
        help_text=gettext_lazy(
            "The incoming webhook address given by Teams (Workflows) or Slack, or an "
            "Apprise URL (mmosts://… for Mattermost, slack://…, matrix://…, "
            "jsons://…). It is kept secret: only a masked form is shown afterwards."
        ),
        max_length=MAX_URL_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        plugin_for(url)  # InvalidChannelUrl is a ValidationError: shown on the field
        return url
