"""Projects and tasks a user may see, with their health figures."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.models import Etape, MembreProjet, Projet, Tache, User
from core.selectors.access import active_membership, reads_everything
from core.selectors.history import slip_count
from core.selectors.urgency import urgency_keys


def week_start(today: datetime.date) -> datetime.date:
    """Monday of ``today``'s week: "this week" means the calendar week."""
    return today - datetime.timedelta(days=today.weekday())


def done_this_week(*, today: datetime.date, prefix: str = "") -> Q:
    """A task counted as "done this week", on the dashboard and in the summary alike:
    completed between Monday and today; a completed task without a completion date
    (set in the admin) counts by its last modification."""
    monday = week_start(today)

    def on(**lookups: object) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    return on(statut=Tache.Statut.TERMINEE) & (
        on(date_fin_reelle__gte=monday, date_fin_reelle__lte=today)
        | on(date_fin_reelle__isnull=True, date_modification__date__gte=monday)
    )


def visible_projects(*, user: User, today: datetime.date) -> QuerySet[Projet]:
    """Projects ``user`` leads or is a current member of; nobody else's."""
    memberships = MembreProjet.objects.filter(
        active_membership(today=today), utilisateur=user, projet=OuterRef("pk")
    )
    return Projet.objects.filter(Q(chef_de_projet=user) | Exists(memberships))


def readable_projects(*, user: User, today: datetime.date) -> QuerySet[Projet]:
    """The projects whose pages ``user`` may read: every one for the DSI, else the
    ones they lead or belong to. Alerts and dashboards follow ``visible_projects``:
    reading everything makes nobody a member."""
    if reads_everything(user):
        return Projet.objects.all()
    return visible_projects(user=user, today=today)


def can_read_project(*, user: User, projet_id: int, today: datetime.date) -> bool:
    return readable_projects(user=user, today=today).filter(pk=projet_id).exists()


def with_health(projets: QuerySet[Projet], *, today: datetime.date) -> QuerySet[Projet]:
    """Annotate open, late and done-this-week task counts in the same query."""
    open_tasks = Tache.open_filter("taches__")
    return projets.annotate(
        open_count=Count("taches", filter=open_tasks),
        late_count=Count("taches", filter=open_tasks & Q(taches__date_echeance__lt=today)),
        done_count=Count("taches", filter=done_this_week(today=today, prefix="taches__")),
    )


def project_list(*, user: User, today: datetime.date) -> QuerySet[Projet]:
    projets = readable_projects(user=user, today=today).select_related("chef_de_projet")
    return with_health(projets, today=today).order_by("nom")


def project_rows(*, user: User, today: datetime.date, search: str = "") -> QuerySet[Projet]:
    """The projects ``user`` may read whose name or code holds ``search``, by name:
    the project list's rows, to page before their figures are read
    (``page_with_health``)."""
    projets = readable_projects(user=user, today=today)
    if search:
        projets = projets.filter(Q(nom__icontains=search) | Q(code__icontains=search))
    return projets.order_by("nom", "pk")


def page_with_health(page_rows: QuerySet[Projet], *, today: datetime.date) -> list[Projet]:
    """A page of ``project_rows`` (a slice) with its leads and figures, in one query
    that counts the tasks of the page's projects only, never the whole portfolio's."""
    projets = Projet.objects.filter(pk__in=page_rows.values("pk")).select_related("chef_de_projet")
    return list(with_health(projets, today=today).order_by("nom", "pk"))


def led_projects(*, user: User, today: datetime.date) -> QuerySet[Projet]:
    """The active projects a chef de projet leads, with health figures."""
    projets = Projet.objects.active().filter(chef_de_projet=user)
    return with_health(projets, today=today).order_by("nom")


def leads_a_project(*, user: User) -> bool:
    """Whether ``user`` leads an active project (and so gets the daily summary)."""
    return Projet.objects.active().filter(chef_de_projet=user).exists()


def get_project_for(*, user: User, pk: int, today: datetime.date) -> Projet:
    """The project if ``user`` may read it; 404 otherwise (its existence is not leaked)."""
    projets = readable_projects(user=user, today=today).select_related("chef_de_projet")
    return get_object_or_404(projets, pk=pk)


@dataclass(frozen=True)
class ProjectDetail:
    projet: Projet
    etapes: list[Etape]
    adhesions: list[MembreProjet]


def project_detail(*, projet: Projet, today: datetime.date) -> ProjectDetail:
    """Phases and current members of a project: two queries (its tasks are paged:
    ``project_tasks``)."""
    etapes = list(projet.etapes.order_by("ordre"))
    adhesions = list(
        projet.adhesions.filter(active_membership(today=today))
        .select_related("utilisateur")
        .order_by("utilisateur__last_name", "utilisateur__first_name")
    )
    return ProjectDetail(projet=projet, etapes=etapes, adhesions=adhesions)


# The project page's status filter: every open task, or one status.
OPEN_TASKS = "ouvertes"
# The owner and phase filters: the tasks without one.
NONE = "aucun"


@dataclass(frozen=True)
class TaskFilters:
    statut: str = ""  # a Tache.Statut, OPEN_TASKS, or "" for all
    responsable: str = ""  # a user's id, NONE, or ""
    etape: str = ""  # a phase's id, NONE, or ""
    late_only: bool = False


def project_tasks(*, projet: Projet, today: datetime.date, filters: TaskFilters) -> QuerySet[Tache]:
    """A project's tasks, filtered, by phase then due date: for a page of them."""
    taches = projet.taches.all()
    if filters.statut == OPEN_TASKS:
        taches = taches.open()
    elif filters.statut:
        taches = taches.filter(statut=filters.statut)
    for field, value in (("responsable", filters.responsable), ("etape", filters.etape)):
        if value == NONE:
            taches = taches.filter(**{f"{field}__isnull": True})
        elif value:
            taches = taches.filter(**{f"{field}_id": int(value)})
    if filters.late_only:
        taches = taches.open().filter(date_echeance__lt=today)
    return (
        taches.select_related("responsable", "etape")
        .annotate(slip_count=slip_count())
        .order_by(F("etape__ordre").asc(nulls_last=True), "date_echeance", "nom", "pk")
    )


def get_task_for(*, user: User, pk: int, today: datetime.date) -> Tache:
    """The task if ``user`` may read its project; 404 otherwise."""
    taches = Tache.objects.filter(
        projet__in=readable_projects(user=user, today=today)
    ).select_related("projet__chef_de_projet", "responsable", "etape")
    return get_object_or_404(taches, pk=pk)


def urgent_tasks_of_led_projects(
    *, user: User, today: datetime.date, limit: int = 10
) -> list[Tache]:
    """The open tasks of the led projects most urgent first: the first ``limit``
    due within the summary's horizon (late ones included), and every blocked task
    whatever its due date (a blockage waits for the lead)."""
    horizon = today + datetime.timedelta(days=settings.SUMMARY_LOOKAHEAD_DAYS)
    alerting = Tache.objects.alerting().filter(projet__chef_de_projet=user)
    nearest = alerting.filter(date_echeance__lte=horizon).order_by(*urgency_keys(today=today))
    return list(
        alerting.filter(Q(pk__in=nearest.values("pk")[:limit]) | Q(statut=Tache.Statut.BLOQUEE))
        .select_related("projet", "responsable")
        .annotate(slip_count=slip_count())
        .order_by(*urgency_keys(today=today))
    )


def find_colleague(*, login: str, active_only: bool = True) -> User:
    """The active account (any, with ``active_only=False``: a filter of the projects a
    departed lead led) whose username or email is ``login`` (either case).

    Typed, never picked from a list of every account of the organisation. An
    email shared by several accounts asks for the username.
    """
    login = login.strip()
    found = list(
        User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).order_by("pk")[:3]
    )
    exact = [user for user in found if user.username.lower() == login.lower()]
    if exact:
        found = exact[:1]
    if not found:
        raise ValidationError(
            _("No account has this username or email: %(login)s."),
            code="unknown_user",
            params={"login": login},
        )
    if len(found) > 1:
        raise ValidationError(
            _("Several accounts share this email: type the username instead."),
            code="ambiguous_email",
        )
    user = found[0]
    if active_only and not user.is_active:
        raise ValidationError(
            _("The account of %(name)s is deactivated."),
            code="inactive_user",
            params={"name": str(user)},
        )
    return user


# How many of a leaving member's open tasks the confirmation lists (all are counted).
OPEN_TASKS_LISTED = 20


@dataclass(frozen=True)
class OpenTasks:
    listed: list[Tache]
    count: int


def open_tasks_of_member(*, projet: Projet, user_id: int) -> OpenTasks:
    """The open tasks ``user_id`` owns in ``projet``: the first few, and how many."""
    owned = projet.taches.open().filter(responsable_id=user_id)
    return OpenTasks(
        listed=list(owned.order_by("date_echeance", "nom")[:OPEN_TASKS_LISTED]),
        count=owned.count(),
    )


def get_phase_for(*, user: User, pk: int, today: datetime.date) -> Etape:
    """The phase if ``user`` may read its project; 404 otherwise."""
    etapes = Etape.objects.filter(
        projet__in=readable_projects(user=user, today=today)
    ).select_related("projet__chef_de_projet")
    return get_object_or_404(etapes, pk=pk)


def get_current_member(*, projet: Projet, user_id: int, today: datetime.date) -> MembreProjet:
    """A membership not ended before ``today`` (one that can still be ended); 404
    otherwise."""
    adhesions = projet.adhesions.filter(
        Q(date_fin__isnull=True) | Q(date_fin__gte=today)
    ).select_related("utilisateur")
    return get_object_or_404(adhesions, utilisateur_id=user_id)
