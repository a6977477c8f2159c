"""Personal API tokens on the preferences page: create one (its secret shown once,
in the answer to the POST: never stored, so never shown again), revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import ApiTokenForm
from core.services import api_tokens
from core.views.http import current_user
from core.views.preferences import render_preferences


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = ApiTokenForm(request.POST, prefix="jeton")
    if form.is_valid():
        try:
            created = api_tokens.create_token(user=user, name=form.cleaned_data["nom"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render_preferences(request, user=user, new_token=created)
    return render_preferences(request, user=user, token_form=form, status=400)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Someone else's token, or one already revoked, changes nothing."""
    if api_tokens.revoke_token(user=current_user(request), token_id=pk):
        messages.success(request, _("The token is revoked: it no longer opens the API."))
    return redirect("core:preferences")
