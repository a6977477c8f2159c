"""A user's own absences: recorded, listed and deleted on one page (POST + CSRF).

Nobody sees or deletes another's absence: the list is the user's own, and
deleting someone else's answers 404, as for an id that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import AbsenceForm
from core.selectors.absences import ABSENCES_PER_PAGE, absences_of
from core.services import absences
from core.views.http import current_user


@login_required
@require_http_methods(["GET", "POST"])
def absence_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = AbsenceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            absences.record_absence(user=user, **form.cleaned_data)
            messages.success(request, _("Your absence is recorded."))
            return redirect("core:absences")
        status = 400
    page = Paginator(absences_of(user=user), ABSENCES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "today": timezone.localdate()}
    return render(request, "core/absences.html", context, status=status)


@login_required
@require_POST
def absence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not absences.delete_absence(user=current_user(request), absence_id=pk):
        raise Http404
    messages.success(request, _("The absence is deleted."))
    return redirect("core:absences")
