"""Team channels: a project's, managed by its lead from the project's pages, and
one's own, from the preferences page.

Writes are POST with their CSRF token. A project one may not read answers 404,
one read but not managed 403; someone else's personal channel 404. The URL is
never sent back to the browser: lists show its masked form, the form field
does not echo it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import ChannelForm
from core.models import Projet, User
from core.selectors import channels as channel_selectors
from core.selectors import projects
from core.selectors.access import can_manage_project
from core.services import channels as channel_service
from core.views.http import current_user

GET_POST = ["GET", "POST"]
PREFERENCES_SECTION = "#channels"


def _managed_project(request: HttpRequest, pk: int) -> tuple[User, Projet]:
    user = current_user(request)
    projet = projects.get_project_for(user=user, pk=pk, today=timezone.localdate())
    if not can_manage_project(user=user, projet=projet):
        raise PermissionDenied(_("Only the project lead can manage the project's channels."))
    return user, projet


def _add(request: HttpRequest, form: ChannelForm, *, user: User, projet: Projet | None) -> bool:
    """Whether the channel was added (else the form holds the errors)."""
    if not form.is_valid():
        return False
    try:
        channel_service.add_channel(
            author=user,
            nom=form.cleaned_data["nom"],
            url=form.cleaned_data["url"],
            projet=projet,
            personal=projet is None,
        )
    except ValidationError as error:
        form.add_error(
            "url" if error.code in ("invalid", "unknown", "unsupported") else None, error
        )
        return False
    messages.success(request, _("The channel is added: the next alerts will be posted there."))
    return True


@login_required
@require_http_methods(GET_POST)
def project_channels(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's channels (masked) and the form to add one."""
    user, projet = _managed_project(request, pk)
    form = ChannelForm(request.POST or None, prefix="canal")
    if request.method == "POST" and _add(request, form, user=user, projet=projet):
        return redirect("core:project_channels", pk=projet.pk)
    context = {
        "projet": projet,
        "canaux": channel_selectors.channels_of_project(projet=projet),
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "core/project_channels.html", context, status=status)


@login_required
@require_http_methods(GET_POST)
def personal_channel_add(request: HttpRequest) -> HttpResponse:
    """The form of the preferences page posts here; its errors are shown on a page
    of their own (the URL field empty again: it is never sent back)."""
    user = current_user(request)
    form = ChannelForm(request.POST or None, prefix="canal")
    if request.method == "POST" and _add(request, form, user=user, projet=None):
        return redirect(reverse("core:preferences") + PREFERENCES_SECTION)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/channel_form.html", {"form": form}, status=status)


@login_required
@require_POST
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        canal = channel_selectors.get_channel_for(user=user, pk=pk, today=timezone.localdate())
    except channel_selectors.NotTheirs:
        raise PermissionDenied(
            _("Only the project lead can manage the project's channels.")
        ) from None
    channel_service.remove_channel(canal=canal)
    messages.success(request, _("The channel “%(nom)s” is removed.") % {"nom": canal.nom})
    if canal.projet_id is not None:
        return redirect("core:project_channels", pk=canal.projet_id)
    return redirect(reverse("core:preferences") + PREFERENCES_SECTION)
