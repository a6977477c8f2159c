"""Projects: the list of mine, a project's page and its alert policy (its tasks are
in views.tasks)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import AlertPolicyForm, ProjectSearchForm, ProjectTaskFilterForm
from core.models import Projet
from core.selectors import projects
from core.selectors.access import (
    can_create_project,
    can_edit_task,
    can_manage_project,
    can_set_alert_policy,
    reads_everything,
)
from core.services.alert_policy import PROJECT_POLICY_FIELDS, save_alert_policy
from core.services.deadlines import project_policy
from core.services.escalation import escalation_limit
from core.views.http import current_user, filters_query

PROJECTS_PER_PAGE = 50
TASKS_PER_PAGE = 50


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects one may read (every one for the DSI), by name, PROJECTS_PER_PAGE
    a page, searched by name or code."""
    user = current_user(request)
    today = timezone.localdate()
    search_form = ProjectSearchForm(request.GET or None)
    rows = projects.project_rows(user=user, today=today, search=search_form.search())
    page = Paginator(rows, PROJECTS_PER_PAGE).get_page(request.GET.get("page", 1))
    # The page's slice, still a query: its figures are read for its rows only.
    page_rows = cast("QuerySet[Projet]", page.object_list)
    page.object_list = projects.page_with_health(page_rows, today=today)
    context = {
        "page": page,
        "search_form": search_form,
        "query": filters_query(request),
        "today": today,
        "can_create": can_create_project(user),
    }
    return render(request, "core/project_list.html", context)


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    detail = projects.project_detail(projet=projet, today=today)
    task_filters = ProjectTaskFilterForm(request.GET or None, detail=detail)
    taches = projects.project_tasks(projet=projet, today=today, filters=task_filters.filters())
    page = Paginator(taches, TASKS_PER_PAGE).get_page(request.GET.get("page", 1))
    can_edit = can_edit_task(user=user, projet=projet)
    member = any(adhesion.utilisateur_id == user.pk for adhesion in detail.adhesions)
    context = {
        "projet": projet,
        "detail": detail,
        "task_filters": task_filters,
        "page": page,
        "query": filters_query(request),
        "today": today,
        "can_edit": can_edit,
        "can_manage": can_manage_project(user=user, projet=projet),
        "alert_policy": project_policy(projet),
        "escalation": escalation_limit(projet),
        "inherited": {name for name in PROJECT_POLICY_FIELDS if getattr(projet, name) is None},
        "can_set_alert_policy": can_set_alert_policy(user=user, projet=projet),
        # The DSI reads a project it takes no part in: said, with no action offered.
        "read_only": not (can_edit or member) and reads_everything(user),
    }
    return render(request, "core/project_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_alert_policy(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's alert policy: its form on GET, saved on POST (the lead, and who
    may change the project in the admin)."""
    user = current_user(request)
    projet = projects.get_project_for(user=user, pk=pk, today=timezone.localdate())
    if not can_set_alert_policy(user=user, projet=projet):
        raise PermissionDenied(_("Only the project lead can change the project's alerts."))
    form = AlertPolicyForm(request.POST or None, instance=projet)
    if request.method == "POST" and form.is_valid():
        try:
            save_alert_policy(projet=projet, by=user, **form.policy())
        except ValidationError as error:  # the form validates the same: a safety net
            form.add_error(None, error)
        else:
            messages.success(request, _("The project's alerts are saved."))
            return redirect(projet)
    return render(request, "core/project_alert_policy.html", {"projet": projet, "form": form})
