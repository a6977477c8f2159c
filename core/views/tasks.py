"""A task: its page and history; the lead edits it, its owner updates it.

The one-click actions of an alert ("Marquer terminée", "Signaler un blocage",
"Lever le blocage") are
a confirmation page on GET and the change on POST (with its CSRF token): a link
opened from an email, or by a mail scanner, never changes anything.

An update refused by the update limits (core.services.update_limits) answers 429
with the same page, the form still filled in, and the reason.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import BlockForm, SnoozeForm, TacheForm, TaskProgressForm, UnblockForm
from core.models import Projet, Tache, User
from core.selectors import projects
from core.selectors.access import can_edit_task, can_update_progress, reads_everything
from core.selectors.history import (
    HISTORY_PAGE_SIZE,
    blockage_reason,
    history_preview,
    task_history,
)
from core.services import task_updates
from core.services.update_limits import TooManyUpdates
from core.views.http import current_user, safe_next


def _require_lead(projet: Projet, user: User) -> None:
    """Members may look, only the chef de projet may change every field."""
    if not can_edit_task(user=user, projet=projet):
        raise PermissionDenied(_("Only the project lead can change the project's tasks."))


def _require_progress_right(tache: Tache, user: User) -> None:
    if not can_update_progress(user=user, tache=tache):
        raise PermissionDenied(_("Only the task's owner or the project lead can update it."))


def _require_owner(tache: Tache, user: User) -> None:
    if tache.responsable_id != user.pk:
        raise PermissionDenied(_("Only the task's owner can snooze its alerts."))


def _task(request: HttpRequest, pk: int) -> tuple[User, Tache, datetime.date]:
    """The signed-in user, the task if they may see it (404 otherwise), today."""
    user = current_user(request)
    today = timezone.localdate()
    return user, projects.get_task_for(user=user, pk=pk, today=today), today


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, tache, today = _task(request, pk)
    return _render_detail(request, user=user, tache=tache, today=today, form=None)


def _render_detail(
    request: HttpRequest,
    *,
    user: User,
    tache: Tache,
    today: datetime.date,
    form: TaskProgressForm | None,
    status: int = 200,
) -> HttpResponse:
    # The form is the owner's; the lead has the full edit (and the one-click actions).
    is_owner = tache.responsable_id == user.pk
    history = history_preview(tache=tache)
    can_edit = can_edit_task(user=user, projet=tache.projet)
    can_act = can_update_progress(user=user, tache=tache)
    context: dict[str, Any] = {
        "tache": tache,
        "projet": tache.projet,
        "today": today,
        "can_edit": can_edit,
        "can_act": can_act,
        "read_only": not (can_edit or can_act) and reads_everything(user),
        "progress_form": form or (TaskProgressForm(tache=tache) if is_owner else None),
        "history": history,
        "slips": history.slips,
        "can_snooze": is_owner and tache.is_open and _has_advance_alerts(tache, today),
        # The owner's snooze, to the owner and the lead.
        "snooze": _snooze(tache, today) if is_owner or can_edit else None,
    }
    return render(request, "core/task_detail.html", context, status=status)


def _has_advance_alerts(tache: Tache, today: datetime.date) -> bool:
    return tache.date_echeance is not None and tache.date_echeance > today


def _snooze(tache: Tache, today: datetime.date) -> dict[str, Any] | None:
    """The snooze still running (its last day today or later), and who set it."""
    until = tache.report_alertes_jusqu_au
    if until is None or until < today:
        return None
    return {"until": until, "by": tache.report_par, "reason": tache.report_motif}


@login_required
@require_GET
def task_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole history of a task, HISTORY_PAGE_SIZE entries a page (who may see
    the task may read it)."""
    _user, tache, today = _task(request, pk)
    paginator = Paginator(task_history(tache=tache), HISTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"tache": tache, "projet": tache.projet, "today": today, "page": page}
    return render(request, "core/task_history.html", context)


@login_required
@require_POST
def task_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner's update (status, progress, comment), from the task page."""
    user, tache, today = _task(request, pk)
    _require_progress_right(tache, user)
    form = TaskProgressForm(request.POST, tache=tache)
    if not form.is_valid():
        return _render_detail(request, user=user, tache=tache, today=today, form=form)
    try:
        task_updates.update_progress(
            tache_id=tache.pk,
            author=user,
            statut=form.cleaned_data["statut"],
            avancement=form.cleaned_data["avancement"],
            comment=form.cleaned_data["commentaire"],
            today=today,
        )
    except TooManyUpdates as refused:
        status = _refused(request, refused)
        return _render_detail(
            request, user=user, tache=tache, today=today, form=form, status=status
        )
    messages.success(request, _("Task “%(nom)s” updated.") % {"nom": tache.nom})
    return redirect(tache)


def _one_click(
    request: HttpRequest, tache: Tache, change: Callable[[], bool], *, done: str, unchanged: str
) -> HttpResponse | int:
    """Make a one-click change (POST): back where the user came from, saying what
    happened (``done``, or ``unchanged`` if it already was); refused by the update
    limits, the status of the page to show again."""
    try:
        changed = change()
    except TooManyUpdates as refused:
        return _refused(request, refused)
    names = {"nom": tache.nom}
    if changed:
        messages.success(request, done % names)
    else:
        messages.info(request, unchanged % names)
    return redirect(safe_next(request, tache.get_absolute_url()))


def _refused(request: HttpRequest, refused: TooManyUpdates) -> int:
    """Say why an update was refused; the status code of the page shown again."""
    messages.error(request, str(refused))
    return 429


@login_required
@require_http_methods(["GET", "POST"])
def task_finish(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Marquer terminée": a confirmation page on GET, the change on POST."""
    user, tache, today = _task(request, pk)
    _require_progress_right(tache, user)
    status = 200
    if request.method == "POST":
        outcome = _one_click(
            request,
            tache,
            lambda: task_updates.mark_done(tache_id=tache.pk, author=user, today=today),
            done=_("Task “%(nom)s” marked as done."),
            unchanged=_("Task “%(nom)s” was already done."),
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        status = outcome
    context = {"tache": tache, "projet": tache.projet, "today": today}
    return render(request, "core/task_finish.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_block(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Signaler un blocage": the reason on GET, the change on POST."""
    user, tache, today = _task(request, pk)
    _require_progress_right(tache, user)
    return _reasoned_change(
        request,
        tache,
        today,
        form=BlockForm(request.POST or None),
        template="core/task_block.html",
        change=lambda data: task_updates.report_blocked(
            tache_id=tache.pk, author=user, reason=data["motif"], today=today
        ),
        done=_("Block reported on “%(nom)s”."),
        unchanged=_("Block reported on “%(nom)s”."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_unblock(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Lever le blocage" (the lead or the owner): a confirmation page with the
    blockage's reason on GET, the change on POST."""
    user, tache, today = _task(request, pk)
    _require_progress_right(tache, user)
    return _reasoned_change(
        request,
        tache,
        today,
        form=UnblockForm(request.POST or None),
        template="core/task_unblock.html",
        change=lambda data: task_updates.lift_block(
            tache_id=tache.pk, author=user, comment=data["commentaire"], today=today
        ),
        done=_("Blockage of “%(nom)s” lifted."),
        unchanged=_("Task “%(nom)s” was not blocked."),
        blockage=blockage_reason(tache=tache),
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner snoozes the task's advance alerts until a date, with a reason."""
    user, tache, today = _task(request, pk)
    _require_owner(tache, user)
    return _reasoned_change(
        request,
        tache,
        today,
        form=SnoozeForm(request.POST or None, tache=tache, today=today),
        template="core/task_snooze.html",
        change=lambda data: task_updates.snooze_advance_alerts(
            tache_id=tache.pk,
            author=user,
            until=data["jusqu_au"],
            reason=data["motif"],
            today=today,
        ),
        done=_("Advance alerts of “%(nom)s” snoozed."),
        unchanged=_("Advance alerts of “%(nom)s” were already snoozed so."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_unsnooze(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner lifts the snooze: a confirmation page on GET, the change on POST."""
    user, tache, today = _task(request, pk)
    _require_owner(tache, user)
    return _reasoned_change(
        request,
        tache,
        today,
        form=forms.Form(request.POST if request.method == "POST" else None),
        template="core/task_unsnooze.html",
        change=lambda _data: task_updates.lift_snooze(tache_id=tache.pk),
        done=_("Advance alerts of “%(nom)s” come again."),
        unchanged=_("Advance alerts of “%(nom)s” were not snoozed."),
        snooze=_snooze(tache, today),
    )


def _reasoned_change(
    request: HttpRequest,
    tache: Tache,
    today: Any,
    *,
    form: Any,
    template: str,
    change: Any,
    done: str,
    unchanged: str,
    **extra: Any,
) -> HttpResponse:
    """A change that takes a typed reason: its form on GET, the change on POST."""
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = _one_click(request, tache, lambda: change(data), done=done, unchanged=unchanged)
        if isinstance(outcome, HttpResponse):
            return outcome
        status = outcome
    context = {
        "tache": tache,
        "projet": tache.projet,
        "today": today,
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        **extra,
    }
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    projet = projects.get_project_for(user=user, pk=pk, today=today)
    _require_lead(projet, user)
    return _task_form(request, user=user, projet=projet, tache=None, today=today)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, tache, today = _task(request, pk)
    _require_lead(tache.projet, user)
    return _task_form(request, user=user, projet=tache.projet, tache=tache, today=today)


def _task_form(
    request: HttpRequest,
    *,
    user: User,
    projet: Projet,
    tache: Tache | None,
    today: datetime.date,
) -> HttpResponse:
    form = TacheForm(request.POST or None, instance=tache, projet=projet, today=today)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request, form, user=user, projet=projet, today=today)
        except TooManyUpdates as refused:
            status = _refused(request, refused)
        else:
            if saved is not None:
                return redirect(saved)
    context = {"form": form, "projet": projet, "tache": tache}
    return render(request, "core/task_form.html", context, status=status)


def _save(
    request: HttpRequest, form: TacheForm, *, user: User, projet: Projet, today: datetime.date
) -> Tache | None:
    """Save through the service, say so, and warn about dates outside the plan."""
    tache: Tache = form.save(commit=False)
    tache.projet = projet
    try:
        if form.is_new:
            task_updates.create_task(tache=tache, author=user, today=today)
            messages.success(request, _("Task “%(nom)s” created.") % {"nom": tache.nom})
        else:
            reason = form.cleaned_data["motif"]
            task_updates.save_task(tache=tache, author=user, today=today, reason=reason)
            messages.success(request, _("Task “%(nom)s” saved.") % {"nom": tache.nom})
    except ValidationError as error:  # a concurrent change made the form stale
        form.add_error(None, error)
        return None
    for warning in tache.schedule_warnings():
        messages.warning(request, warning)
    return tache
