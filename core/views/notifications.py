"""The notification centre: list, filter, mark one or all as read (writes in
core.services.notifications; "mark all" leaves a large remainder to a task)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.forms import NotificationFilterForm
from core.jobs import dispatch
from core.models import NotificationTache
from core.models.notifications import SUBJECT_RELATED
from core.selectors.notifications import notification_page, unread_count
from core.services.notifications import mark_all_read, mark_read
from core.tasks import mark_notifications_read
from core.views.http import current_user, is_htmx, safe_next

# "Mark all read" marks this many within the request, the rest in the background.
MARKED_IN_REQUEST = 2000


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    filter_form = NotificationFilterForm(request.GET)
    filters = filter_form.filters()
    page = notification_page(
        user=user, older=request.GET.get("older"), newer=request.GET.get("newer"), **filters
    )
    query = request.GET.copy()
    for cursor in ("older", "newer", "page"):
        query.pop(cursor, None)
    context = {
        "page": page,
        "filter_form": filter_form,
        "filters": filters,
        "query": query.urlencode(),
    }
    return render(request, "core/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read; someone else's id is a 404."""
    user = current_user(request)
    notification = get_object_or_404(
        NotificationTache.objects.select_related(*SUBJECT_RELATED), pk=pk, destinataire=user
    )
    mark_read(user=user, notification_id=notification.pk)
    if is_htmx(request):
        notification.lue = True
        context = {"notifications": [notification], "unread_notifications": unread_count(user=user)}
        return render(request, "core/partials/notification_read.html", context)
    return redirect(safe_next(request, reverse("core:notification_list")))


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a notification: its task's page (a phase's or a project's alert: the
    project's page; an export's: "My exports"), the notification now read.

    A GET that writes, on purpose: it only changes the reader's own read state,
    as opening a message in a mail client does; the change is idempotent (the
    first reading time is kept), needs the user's session, and a forged link can
    do no more than mark one of the victim's notifications read. Actions that
    change a task are POST only (see views.tasks).
    """
    user = current_user(request)
    subject = (
        NotificationTache.objects.filter(pk=pk, destinataire=user)
        .values_list("tache_id", Coalesce("etape__projet_id", "projet_id"), "export_id")
        .first()
    )
    if subject is None:
        raise Http404
    mark_read(user=user, notification_id=pk)
    tache_id, projet_id, export_id = subject
    if export_id is not None:
        return redirect(f"{reverse('core:portfolio_exports')}#export-{export_id}")
    if tache_id is None:
        return redirect("core:project_detail", projet_id)
    return redirect("core:task_detail", tache_id)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """The first MARKED_IN_REQUEST at once, in bounded batches; the rest, if any,
    by a background task: the page answers at once whatever the number."""
    user = current_user(request)
    up_to = timezone.now()
    result = mark_all_read(user=user, up_to=up_to, max_rows=MARKED_IN_REQUEST)
    if result.remaining:
        dispatch.after_commit(mark_notifications_read, user.pk, up_to.isoformat())
        messages.info(request, _("The other notifications will be marked as read in a moment."))
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            result.marked,
        )
        % {"count": result.marked}
        if result.marked
        else _("Everything was already read."),
    )
    return redirect(safe_next(request, reverse("core:notification_list")))
