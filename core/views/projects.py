"""Projects and their tasks: members read, the chef de projet also writes."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import TacheForm
from core.models import Projet, Tache, User
from core.selectors import projects
from core.views.http import current_user

PROJECTS_PER_PAGE = 30


def _require_lead(projet: Projet, user: User) -> None:
    """Members may look, only the chef de projet may change the project's tasks."""
    if projet.chef_de_projet_id != user.pk:
        raise PermissionDenied(_("Only the project lead can change the project's tasks."))


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
    context = {
        "projet": projet,
        "detail": detail,
        "today": today,
        "can_edit": projet.chef_de_projet_id == user.pk,
    }
    return render(request, "core/project_detail.html", context)


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    tache = projects.get_task_for(user=user, pk=pk, today=timezone.localdate())
    context = {
        "tache": tache,
        "projet": tache.projet,
        "today": timezone.localdate(),
        "can_edit": tache.projet.chef_de_projet_id == user.pk,
    }
    return render(request, "core/task_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    _require_lead(projet, user)
    return _task_form(request, projet=projet, tache=None, today=today)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    tache = projects.get_task_for(user=user, pk=pk, today=today)
    _require_lead(tache.projet, user)
    return _task_form(request, projet=tache.projet, tache=tache, today=today)


def _task_form(
    request: HttpRequest, *, projet: Projet, tache: Tache | None, today: datetime.date
) -> HttpResponse:
    form = TacheForm(request.POST or None, instance=tache, projet=projet, today=today)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if tache is None:
            messages.success(request, _("Task “%(nom)s” created.") % {"nom": saved.nom})
        else:
            messages.success(request, _("Task “%(nom)s” saved.") % {"nom": saved.nom})
        return redirect(saved)
    context = {"form": form, "projet": projet, "tache": tache}
    return render(request, "core/task_form.html", context)
