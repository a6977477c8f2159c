"""What the API shows and accepts. Field names are the models' (the domain's
French vocabulary); the rules of a write are the pages' forms (core.forms), run
by ``TaskWriteSerializer``: the API refuses what the pages refuse, in the same words.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.validators import RegexValidator
from django.forms import BaseForm, Form
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.forms import ProjectEditForm, TacheForm, TaskProgressForm
from core.models import Etape, NotificationTache, Projet, Tache, User
from core.selectors.notifications import MAX_ID
from core.services.projects import PROJECT_FIELDS

Statut = Tache.Statut


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    """An id: a positive bigint (a larger number is refused, never sent to SQLite)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class UserSummarySerializer(serializers.ModelSerializer):
    nom = serializers.SerializerMethodField(help_text=_("First and last name."))

    class Meta:
        model = User
        fields = ["id", "username", "nom"]

    def get_nom(self, user: User) -> str:
        return user.get_full_name() or user.get_username()


class ProjectSerializer(serializers.ModelSerializer):
    chef_de_projet = UserSummarySerializer(read_only=True)
    taches_ouvertes = serializers.IntegerField(source="open_count", read_only=True)
    taches_en_retard = serializers.IntegerField(source="late_count", read_only=True)
    terminees_cette_semaine = serializers.IntegerField(source="done_count", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Projet
        fields = [
            "id",
            "code",
            "nom",
            "description",
            "statut",
            "chef_de_projet",
            "date_debut",
            "date_fin_prevue",
            "taches_ouvertes",
            "taches_en_retard",
            "terminees_cette_semaine",
            "url",
        ]
        read_only_fields = fields


class EtapeSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Etape
        fields = ["id", "ordre", "nom"]


class TaskSerializer(serializers.ModelSerializer):
    projet = serializers.IntegerField(source="projet_id", read_only=True)
    etape = EtapeSummarySerializer(read_only=True, allow_null=True)
    responsable = UserSummarySerializer(read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Tache
        fields = [
            "id",
            "projet",
            "nom",
            "description",
            "etape",
            "responsable",
            "statut",
            "priorite",
            "date_echeance",
            "avancement",
            "date_fin_reelle",
            "date_creation",
            "date_modification",
            "url",
        ]
        read_only_fields = fields


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """Not trimmed nor normalised here: the form does it, as on the page."""
    return serializers.CharField(
        max_length=max_length, allow_blank=True, trim_whitespace=False, **kwargs
    )


# The API's names of the form's fields, where they differ.
LEAD_FORM_NAMES = {"commentaire": "motif", "confirmer_echeance_passee": "confirm_past_due_date"}
OWNER_FIELDS = frozenset({"statut", "avancement", "commentaire"})


class TaskWriteSerializer(serializers.Serializer):
    # A task written by the API: the project's lead sets any field (TacheForm);
    # the task's owner its status, progress and a comment (TaskProgressForm).
    #
    # The context holds ``projet``, ``today``, ``tache`` (None to create) and
    # ``as_lead``; ``validated_data`` is then the form's ``cleaned_data``, with the
    # form itself under ``form``.

    nom = _text(200, required=False)
    description = _text(5000, required=False)
    etape = _id_field(required=False, allow_null=True, help_text=_("A phase of the project."))
    responsable = _id_field(
        required=False,
        allow_null=True,
        help_text=_("The project lead or a current member of the project."),
    )
    statut = serializers.ChoiceField(choices=Statut.choices, required=False)
    priorite = serializers.ChoiceField(choices=Tache.Priorite.choices, required=False)
    date_echeance = serializers.DateField(required=False, allow_null=True)
    avancement = serializers.IntegerField(min_value=0, max_value=100, required=False)
    commentaire = _text(
        1000,
        required=False,
        write_only=True,
        help_text=_(
            "Kept in the task's history: required to block a task or push its due date back."
        ),
    )
    confirmer_echeance_passee = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text=_("To create a task whose due date is already past."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        form = self._lead_form(attrs) if self.context["as_lead"] else self._owner_form(attrs)
        return _validated(form, LEAD_FORM_NAMES)

    def _lead_form(self, attrs: dict[str, Any]) -> TacheForm:
        tache: Tache | None = self.context["tache"]
        data = _stored(tache) if tache else {"statut": Statut.A_FAIRE, "priorite": "NORMALE"}
        data |= {LEAD_FORM_NAMES.get(name, name): value for name, value in attrs.items()}
        return TacheForm(
            _form_data(data),
            instance=tache,
            projet=self.context["projet"],
            today=self.context["today"],
        )

    def _owner_form(self, attrs: dict[str, Any]) -> Form:
        tache: Tache = self.context["tache"]
        data = {"statut": tache.statut, "avancement": tache.avancement, "commentaire": ""} | attrs
        return TaskProgressForm(_form_data(data), tache=tache)


def _validated(form: BaseForm, api_names: dict[str, str]) -> dict[str, Any]:
    """The form's cleaned data (and the form), or its errors under the API's names."""
    if not form.is_valid():
        names = {form_name: api for api, form_name in api_names.items()}
        raise serializers.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else names.get(field, field)): [
                    str(message) for message in messages
                ]
                for field, messages in form.errors.items()
            }
        )
    return {**form.cleaned_data, "form": form}


class ProjectWriteSerializer(serializers.Serializer):
    # The lead's edit of the project (ProjectEditForm): a PATCH changes only the
    # fields it sends; the code stays as created. The context holds ``projet``.

    nom = _text(200, required=False)
    description = _text(5000, required=False)
    statut = serializers.ChoiceField(choices=Projet.Statut.choices, required=False)
    date_debut = serializers.DateField(required=False, allow_null=True)
    date_fin_prevue = serializers.DateField(required=False, allow_null=True)
    commentaire = _text(
        1000, required=False, write_only=True, help_text=_("Kept in the project's history.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        projet: Projet = self.context["projet"]
        data = {name: getattr(projet, name) for name in PROJECT_FIELDS}
        data |= {PROJECT_FORM_NAMES.get(name, name): value for name, value in attrs.items()}
        return _validated(ProjectEditForm(_form_data(data), projet=projet), PROJECT_FORM_NAMES)


PROJECT_FORM_NAMES = {"commentaire": "motif"}


class ProjectReferenceSerializer(serializers.Serializer):
    projet = _id_field(help_text=_("The project of the new task (you lead it)."))


class TaskCreateSerializer(ProjectReferenceSerializer, TaskWriteSerializer):
    # A new task: its project and name are required; the rest as on the page
    # (status "To do", priority "Normal" unless given).

    nom = _text(200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("projet")  # read first by the view, which checked it
        return super().validate(attrs)


def _stored(tache: Tache) -> dict[str, Any]:
    """The lead's form as the page would show it for ``tache``: a PATCH changes
    only the fields it sends."""
    return {
        "nom": tache.nom,
        "description": tache.description,
        "etape": tache.etape_id,
        "responsable": tache.responsable_id,
        "statut": tache.statut,
        "priorite": tache.priorite,
        "date_echeance": tache.date_echeance,
        "avancement": tache.avancement,
    }


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    """Form data from typed values (a form reads strings; None is an empty field)."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value is False:
            continue  # an empty field; an unchecked box
        if isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = "on" if value is True else str(value)
    return data


class CommaListField(serializers.ListField):
    # A repeatable query parameter that also takes a comma list (``a,b``).

    def to_internal_value(self, data: Any) -> list[Any]:
        items = [data] if isinstance(data, str) else list(data)
        parts = [part for item in items for part in str(item).split(",") if part]
        return super().to_internal_value(parts)


class TaskFilterSerializer(serializers.Serializer):
    project = _id_field(required=False, help_text=_("A project's id."))
    owner = serializers.CharField(
        required=False,
        max_length=20,
        validators=[RegexValidator(r"^(me|[1-9][0-9]{0,17})$", _("An id, or “me”."))],
        help_text=_("The owner's id, or “me”."),
    )
    status = CommaListField(
        child=serializers.ChoiceField(choices=Statut.choices),
        required=False,
        max_length=len(Statut.choices),
        help_text=_("Repeatable, or a comma list: A_FAIRE,EN_COURS."),
    )
    due_before = serializers.DateField(required=False, help_text=_("Due on or before this date."))
    due_after = serializers.DateField(required=False, help_text=_("Due on or after this date."))


class NotificationSerializer(serializers.ModelSerializer):
    tache = serializers.IntegerField(source="tache_id", read_only=True, allow_null=True)
    etape = serializers.IntegerField(source="etape_id", read_only=True, allow_null=True)
    projet = serializers.IntegerField(source="projet_id", read_only=True, allow_null=True)

    class Meta:
        model = NotificationTache
        fields = [
            "id",
            "type_notification",
            "titre",
            "message",
            "lue",
            "date_creation",
            "date_lecture",
            "date_echeance",
            "tache",
            "etape",
            "projet",
        ]
        read_only_fields = fields


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, default=False, help_text=_("Only the unread notifications.")
    )


class MarkedSerializer(serializers.Serializer):
    marquees = serializers.IntegerField(help_text=_("Notifications marked as read now."))
    reste = serializers.BooleanField(
        help_text=_("More are being marked as read in the background.")
    )


class PortfolioProjectSerializer(serializers.ModelSerializer):
    chef_de_projet = UserSummarySerializer(read_only=True)

    class Meta:
        model = Projet
        fields = ["id", "code", "nom", "statut", "chef_de_projet"]
        read_only_fields = fields


class PortfolioRowSerializer(serializers.Serializer):
    # One project of the portfolio, with the /portefeuille/ page's figures.

    projet = PortfolioProjectSerializer()
    taches_ouvertes = serializers.IntegerField(source="open_count")
    taches_en_retard = serializers.IntegerField(source="late_count")
    echeance_aujourdhui = serializers.IntegerField(source="due_today_count")
    echeances_repoussees = serializers.IntegerField(source="slip_count")
    tendance_retards = serializers.ListField(
        source="trend",
        child=serializers.IntegerField(),
        help_text=_(
            "Late tasks at the end of each of the last 8 weeks, oldest first "
            "(today, then the same weekday of the weeks before)."
        ),
    )


class PortfolioTotalsSerializer(serializers.Serializer):
    # The whole filtered portfolio, as the page's summary row.

    taches_ouvertes = serializers.IntegerField(source="open_count")
    taches_en_retard = serializers.IntegerField(source="late_count")
    echeance_aujourdhui = serializers.IntegerField(source="due_today_count")
    echeances_repoussees = serializers.IntegerField(source="slip_count")
    tendance_retards = serializers.ListField(source="trend", child=serializers.IntegerField())


class PortfolioFilterSerializer(serializers.Serializer):
    chef = _id_field(required=False, help_text=_("The project lead's id."))
    statut = serializers.ChoiceField(choices=Projet.Statut.choices, required=False)
