"""A project managed in the application: its creation, its lead's edit, its
phases, its members, its hand-over, and its history.

Writes are POST with their CSRF token and go through ``core.services.projects``;
a project one may not read answers 404 (``get_project_for``), one read but not
managed 403.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import (
    HandOverForm,
    MemberAddForm,
    MemberRemoveForm,
    PhaseForm,
    ProjectCreateForm,
    ProjectEditForm,
)
from core.models import Etape, Projet, User
from core.selectors import projects
from core.selectors.access import can_create_project, can_manage_project
from core.selectors.project_history import (
    PROJECT_HISTORY_PAGE_SIZE,
    history_lines,
    project_history,
)
from core.services import projects as project_service
from core.views.http import current_user

GET_POST = ["GET", "POST"]


def _require_manager(user: User, projet: Projet) -> None:
    if not can_manage_project(user=user, projet=projet):
        raise PermissionDenied(_("Only the project lead can manage the project."))


def _managed(request: HttpRequest, pk: int) -> tuple[User, Projet, datetime.date]:
    """The signed-in user, the project they manage (404 if unseen, 403 if only
    read), today."""
    user, today = current_user(request), timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    _require_manager(user, projet)
    return user, projet, today


def _managed_phase(request: HttpRequest, pk: int) -> tuple[User, Etape]:
    user, today = current_user(request), timezone.localdate()
    etape = projects.get_phase_for(user=user, pk=pk, today=today)
    _require_manager(user, etape.projet)
    return user, etape


@login_required
@require_http_methods(GET_POST)
def project_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not can_create_project(user):
        raise PermissionDenied(_("Only project leads can create a project."))
    form = ProjectCreateForm(request.POST or None, creator=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            projet = project_service.create_project(
                code=data["code"],
                nom=data["nom"],
                chef_de_projet=data["chef"],
                author=user,
                statut=data["statut"],
                date_debut=data["date_debut"],
                date_fin_prevue=data["date_fin_prevue"],
                description=data["description"],
            )
        except ValidationError as error:  # the code taken meanwhile
            form.add_error(None, error)
        else:
            messages.success(request, _("The project is created."))
            today = timezone.localdate()
            if projects.can_read_project(user=user, projet_id=projet.pk, today=today):
                return redirect(projet)
            return redirect("core:project_list")
    return render(request, "core/project_form.html", {"form": form, "projet": None})


@login_required
@require_http_methods(GET_POST)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, projet, _today = _managed(request, pk)
    form = ProjectEditForm(request.POST or None, projet=projet)
    if request.method == "POST" and form.is_valid():
        try:
            project_service.update_project(
                projet_id=projet.pk,
                author=user,
                values=form.values(),
                reason=form.cleaned_data["motif"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The project is saved."))
            return redirect(projet)
    return render(request, "core/project_form.html", {"form": form, "projet": projet})


@login_required
@require_http_methods(GET_POST)
def project_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    user, projet, today = _managed(request, pk)
    form = HandOverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_lead = form.cleaned_data["login"]
        try:
            project_service.hand_over(
                projet_id=projet.pk,
                new_lead=new_lead,
                author=user,
                today=today,
                reason=form.cleaned_data["motif"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("%(name)s now leads the project.") % {"name": str(new_lead)}
            )
            return redirect(projet)
    return render(request, "core/project_hand_over.html", {"form": form, "projet": projet})


@login_required
@require_GET
def project_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's history, PROJECT_HISTORY_PAGE_SIZE entries a page (who may
    see the project may read it)."""
    user, today = current_user(request), timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    paginator = Paginator(project_history(projet=projet), PROJECT_HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"projet": projet, "page": page, "lines": history_lines(list(page.object_list))}
    return render(request, "core/project_history.html", context)


# Phases


@login_required
@require_http_methods(GET_POST)
def phase_create(request: HttpRequest, pk: int) -> HttpResponse:
    user, projet, _today = _managed(request, pk)
    form = PhaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project_service.add_phase(projet_id=projet.pk, author=user, **form.values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The phase is added."))
            return redirect(projet)
    return render(request, "core/phase_form.html", {"form": form, "projet": projet, "etape": None})


@login_required
@require_http_methods(GET_POST)
def phase_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, etape = _managed_phase(request, pk)
    form = PhaseForm(request.POST or None, etape=etape)
    if request.method == "POST" and form.is_valid():
        try:
            project_service.edit_phase(etape_id=etape.pk, author=user, values=form.values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The phase is saved."))
            return redirect(etape.projet)
    context = {"form": form, "projet": etape.projet, "etape": etape}
    return render(request, "core/phase_form.html", context)


@login_required
@require_http_methods(GET_POST)
def phase_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation on GET (how many tasks lose their phase), the deletion on POST."""
    user, etape = _managed_phase(request, pk)
    if request.method == "POST":
        project_service.delete_phase(etape_id=etape.pk, author=user)
        messages.success(
            request, _("The phase “%(nom)s” is deleted; its tasks stay.") % {"nom": etape.nom}
        )
        return redirect(etape.projet)
    context = {"etape": etape, "projet": etape.projet, "task_count": etape.taches.count()}
    return render(request, "core/phase_delete.html", context)


@login_required
@require_POST
def phase_move(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    user, etape = _managed_phase(request, pk)
    project_service.move_phase(etape_id=etape.pk, author=user, direction=direction)
    return redirect(etape.projet)


# Members


@login_required
@require_http_methods(GET_POST)
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    user, projet, today = _managed(request, pk)
    form = MemberAddForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        colleague = form.cleaned_data["login"]
        try:
            project_service.add_member(
                projet_id=projet.pk,
                utilisateur=colleague,
                author=user,
                role=form.cleaned_data["role"],
                date_debut=form.cleaned_data["date_debut"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("%(name)s is a member of the project.") % {"name": str(colleague)}
            )
            return redirect(projet)
    return render(request, "core/member_add.html", {"form": form, "projet": projet})


@login_required
@require_http_methods(GET_POST)
def member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """A confirmation listing the member's open tasks (they stay theirs), then the
    leaving date set on POST."""
    user, projet, today = _managed(request, pk)
    adhesion = projects.get_current_member(projet=projet, user_id=user_id, today=today)
    form = MemberRemoveForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            project_service.remove_member(
                projet_id=projet.pk,
                utilisateur_id=user_id,
                author=user,
                date_fin=form.cleaned_data["date_fin"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s leaves the project on %(date)s.")
                % {
                    "name": str(adhesion.utilisateur),
                    "date": project_service.short_date(form.cleaned_data["date_fin"]),
                },
            )
            return redirect(projet)
    context = {
        "form": form,
        "projet": projet,
        "adhesion": adhesion,
        "open_tasks": projects.open_tasks_of_member(projet=projet, user_id=user_id),
        "open_filter": projects.OPEN_TASKS,
    }
    return render(request, "core/member_remove.html", context)
