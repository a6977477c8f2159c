"""The endpoints of /api/v1/: thin, as the pages' views are. Reads go through the
selectors (who sees what: core.selectors.access), writes through the services,
validated by the pages' forms (``TaskWriteSerializer``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import serializers as s
from core.api.pagination import NotificationPages
from core.api.permissions import ReadsPortfolio
from core.jobs import dispatch
from core.models import NotificationTache, Projet, Tache, User
from core.selectors import portfolio, projects
from core.selectors.access import can_edit_task, can_manage_project, can_update_progress
from core.selectors.notifications import ALL, MAX_ID, UNREAD, notifications_for
from core.services import portfolio_figures, task_updates
from core.services import projects as project_service
from core.services.notifications import mark_all_read, mark_read
from core.tasks import mark_notifications_read
from core.views.notifications import MARKED_IN_REQUEST


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


class BoundedIds:
    """An id in the URL beyond a bigint is a 404 (SQLite would raise on it)."""

    kwargs: dict[str, Any]

    def check_id(self) -> None:
        pk = str(self.kwargs.get("pk", ""))
        if not pk.isdigit() or int(pk) > MAX_ID:
            raise exceptions.NotFound


@extend_schema_view(
    list=extend_schema(summary=_("Projects you lead or belong to (all for the DSI)")),
    retrieve=extend_schema(summary=_("A project")),
    partial_update=extend_schema(
        summary=_("Update a project: name, description, status, dates (its lead)"),
        request=s.ProjectWriteSerializer,
        responses={200: s.ProjectSerializer},
    ),
)
class ProjectViewSet(
    BoundedIds,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ProjectSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Projet]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document's generation
            return Projet.objects.none()
        user, today = _user(self.request), timezone.localdate()
        if self.action == "list":  # paged first, the figures read for the page only
            return projects.project_rows(user=user, today=today)
        return projects.project_list(user=user, today=today)

    def paginate_queryset(self, queryset: QuerySet[Projet]) -> list[Projet] | None:
        """The page's projects with their figures, counted for those projects only
        (as the project list's page): never the whole portfolio's tasks."""
        page = super().paginate_queryset(queryset)
        if page is None:
            return None
        on_page = Projet.objects.filter(pk__in=[projet.pk for projet in page])
        return projects.page_with_health(on_page, today=timezone.localdate())

    def get_object(self) -> Projet:
        self.check_id()
        projet: Projet = super().get_object()
        return projet

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed(request.method or "PUT")
        user, projet = _user(request), self.get_object()
        if not can_manage_project(user=user, projet=projet):
            raise exceptions.PermissionDenied(_("Only the project lead can change the project."))
        serializer = s.ProjectWriteSerializer(data=request.data, context={"projet": projet})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            project_service.update_project(
                projet_id=projet.pk, author=user, values=data["form"].values(), reason=data["motif"]
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"non_field_errors": error.messages}) from None
        return Response(s.ProjectSerializer(self.get_object()).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("Tasks of the projects you may see"), parameters=[s.TaskFilterSerializer]
    ),
    retrieve=extend_schema(summary=_("A task")),
    create=extend_schema(
        summary=_("Create a task (the project lead)"),
        request=s.TaskCreateSerializer,
        responses={201: s.TaskSerializer},
    ),
    partial_update=extend_schema(
        summary=_(
            "Update a task: every field (the lead), status, progress and comment (its owner)"
        ),
        request=s.TaskWriteSerializer,
        responses={200: s.TaskSerializer},
    ),
)
class TaskViewSet(
    BoundedIds,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.TaskSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Tache]:
        if getattr(self, "swagger_fake_view", False):
            return Tache.objects.none()
        readable = projects.readable_projects(user=_user(self.request), today=timezone.localdate())
        taches = Tache.objects.filter(projet__in=readable).select_related(
            "projet", "responsable", "etape"
        )
        if self.action != "list":
            return taches
        filters = s.TaskFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return _filtered(taches, filters.validated_data, user=_user(self.request)).order_by(
            "date_echeance", "nom", "pk"
        )

    def get_object(self) -> Tache:
        self.check_id()
        tache: Tache = super().get_object()
        return tache

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user, today = _user(request), timezone.localdate()
        reference = s.ProjectReferenceSerializer(data=request.data)
        reference.is_valid(raise_exception=True)
        projet = projects.get_project_for(
            user=user, pk=reference.validated_data["projet"], today=today
        )
        if not can_edit_task(user=user, projet=projet):
            raise exceptions.PermissionDenied(
                _("Only the project lead can change the project's tasks.")
            )
        context = {"projet": projet, "today": today, "tache": None, "as_lead": True}
        serializer = s.TaskCreateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        tache: Tache = serializer.validated_data["form"].save(commit=False)
        tache.projet = projet
        task_updates.create_task(tache=tache, author=user, today=today)
        return Response(self._shown(tache.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed(request.method or "PUT")
        user, today, tache = _user(request), timezone.localdate(), self.get_object()
        as_lead = can_edit_task(user=user, projet=tache.projet)
        if not as_lead:
            _require_owner_fields(request, tache, user)
        context = {"projet": tache.projet, "today": today, "tache": tache, "as_lead": as_lead}
        serializer = s.TaskWriteSerializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if as_lead:
                edited: Tache = data["form"].save(commit=False)
                task_updates.save_task(tache=edited, author=user, today=today, reason=data["motif"])
            else:
                task_updates.update_progress(
                    tache_id=tache.pk,
                    author=user,
                    statut=data["statut"],
                    avancement=data["avancement"],
                    comment=data["commentaire"],
                    today=today,
                )
        except DjangoValidationError as error:  # a concurrent change made it stale
            raise exceptions.ValidationError({"non_field_errors": error.messages}) from None
        return Response(self._shown(tache.pk))

    def _shown(self, pk: int) -> dict[str, Any]:
        tache = Tache.objects.select_related("projet", "responsable", "etape").get(pk=pk)
        return dict(s.TaskSerializer(tache).data)


def _require_owner_fields(request: Request, tache: Tache, user: User) -> None:
    """Who is not the lead: the task's owner, and only its status, progress and
    comment (another field is a 403: it is not theirs to change)."""
    if not can_update_progress(user=user, tache=tache):
        raise exceptions.PermissionDenied(
            _("Only the task's owner or the project lead can update it.")
        )
    others = sorted(set(request.data) - s.OWNER_FIELDS) if isinstance(request.data, dict) else []
    if others:
        raise exceptions.PermissionDenied(
            _("The task's owner may change its status, progress and comment only, not: %(fields)s.")
            % {"fields": ", ".join(others)}
        )


def _filtered(taches: QuerySet[Tache], filters: dict[str, Any], *, user: User) -> QuerySet[Tache]:
    if "project" in filters:
        taches = taches.filter(projet_id=filters["project"])
    if "owner" in filters:
        owner = filters["owner"]
        taches = taches.filter(responsable_id=user.pk if owner == "me" else int(owner))
    if filters.get("status"):
        taches = taches.filter(statut__in=filters["status"])
    if "due_before" in filters:
        taches = taches.filter(date_echeance__lte=filters["due_before"])
    if "due_after" in filters:
        taches = taches.filter(date_echeance__gte=filters["due_after"])
    return taches


@extend_schema_view(
    list=extend_schema(
        summary=_("Your notifications, newest first"),
        parameters=[s.NotificationFilterSerializer],
    ),
)
class NotificationViewSet(BoundedIds, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    pagination_class = NotificationPages

    def get_queryset(self) -> QuerySet[NotificationTache]:
        if getattr(self, "swagger_fake_view", False):
            return NotificationTache.objects.none()
        filters = s.NotificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        unread = filters.validated_data["unread"]
        return notifications_for(user=_user(self.request), status=UNREAD if unread else ALL)

    @extend_schema(summary=_("Mark one of your notifications as read"), request=None)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        self.check_id()
        user = _user(request)
        mine = NotificationTache.objects.filter(pk=int(pk), destinataire=user)
        if not mine.exists():  # someone else's: as if it did not exist
            raise exceptions.NotFound
        mark_read(user=user, notification_id=int(pk))
        return Response(s.NotificationSerializer(mine.get()).data)

    @extend_schema(
        summary=_("Mark all your notifications as read"),
        request=None,
        responses={200: s.MarkedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """As the page's button: the first ones now, the rest in the background."""
        user, up_to = _user(request), timezone.now()
        result = mark_all_read(user=user, up_to=up_to, max_rows=MARKED_IN_REQUEST)
        if result.remaining:
            dispatch.after_commit(mark_notifications_read, user.pk, up_to.isoformat())
        return Response({"marquees": result.marked, "reste": result.remaining})


@extend_schema_view(
    get=extend_schema(
        summary=_("The portfolio: every project's health, slips and trend (the DSI)"),
        parameters=[s.PortfolioFilterSerializer],
    )
)
class PortfolioView(generics.ListAPIView):
    """The /portefeuille/ page's figures, a page of projects at a time, the most
    late first (core.selectors.portfolio: a fixed number of queries a page)."""

    permission_classes = [ReadsPortfolio]
    serializer_class = s.PortfolioRowSerializer

    def get_queryset(self) -> QuerySet[Projet]:
        return portfolio.portfolio_projects(
            today=timezone.localdate(), filters=_portfolio_filters(self.request)
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        portfolio_figures.ensure_fresh(today=timezone.localdate())
        page = self.paginate_queryset(self.get_queryset()) or []
        rows = portfolio.portfolio_rows(list(page), today=timezone.localdate())
        return self.get_paginated_response(s.PortfolioRowSerializer(rows, many=True).data)


def _portfolio_filters(request: Request) -> portfolio.PortfolioFilters:
    filters = s.PortfolioFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return portfolio.PortfolioFilters(
        lead_id=filters.validated_data.get("chef"),
        statut=filters.validated_data.get("statut", ""),
    )


@extend_schema(
    summary=_("The whole filtered portfolio's figures (the page's summary row)"),
    parameters=[s.PortfolioFilterSerializer],
    responses={200: s.PortfolioTotalsSerializer},
)
class PortfolioSummaryView(generics.GenericAPIView):
    """The /portefeuille/ page's summary row: one aggregate over the filtered projects."""

    permission_classes = [ReadsPortfolio]
    serializer_class = s.PortfolioTotalsSerializer
    pagination_class = None

    def get(self, request: Request) -> Response:
        portfolio_figures.ensure_fresh(today=timezone.localdate())
        totals = portfolio.portfolio_totals(
            today=timezone.localdate(), filters=_portfolio_filters(request)
        )
        return Response(s.PortfolioTotalsSerializer(totals).data)
