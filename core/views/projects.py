"""Projects: the list of mine and a project's page (its tasks are in views.tasks)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.selectors import projects
from core.selectors.access import can_edit_task, reads_everything
from core.views.http import current_user

PROJECTS_PER_PAGE = 30


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    paginator = Paginator(projects.project_list(user=user, today=today), PROJECTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page", 1))
    return render(request, "core/project_list.html", {"page": page, "today": today})


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    detail = projects.project_detail(projet=projet, today=today)
    can_edit = can_edit_task(user=user, projet=projet)
    member = any(adhesion.utilisateur_id == user.pk for adhesion in detail.adhesions)
    context = {
        "projet": projet,
        "detail": detail,
        "today": today,
        "can_edit": can_edit,
        # The DSI reads a project it takes no part in: said, with no action offered.
        "read_only": not (can_edit or member) and reads_everything(user),
    }
    return render(request, "core/project_detail.html", context)
