""" "My exports": the portfolio exports prepared in the background for their owner
(core.services.portfolio_export_jobs), with the same permission as the portfolio.
Someone else's export is a 404, like one that does not exist."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.forms import PortfolioFilterForm
from core.jobs import dispatch
from core.models import ExportPortefeuille
from core.selectors import exports
from core.services import portfolio_export, portfolio_export_jobs
from core.tasks import generate_portfolio_export
from core.views.http import current_user, permission_required


@permission_required("core.view_portfolio")
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    page = Paginator(exports.exports_of(user=user), exports.PAGE_SIZE).get_page(
        request.GET.get("page", 1)
    )
    context = {
        "page": page,
        "now": timezone.now(),
        "retention_days": settings.PORTFOLIO_EXPORT_RETENTION_DAYS,
    }
    return render(request, "core/portfolio_exports.html", context)


@permission_required("core.view_portfolio")
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Prepare the filtered portfolio's export in the background; the owner is
    notified when it is ready."""
    fmt = request.POST.get("format", "")
    if fmt not in ExportPortefeuille.Format.values:
        return HttpResponseBadRequest(_("Unknown export format."))
    filters = PortfolioFilterForm(request.POST).filters()
    export = portfolio_export_jobs.request_export(
        owner=current_user(request), fmt=fmt, filters=filters
    )
    if export is None:
        messages.error(
            request,
            _("You already have %(count)d exports being prepared: wait for one of them to finish.")
            % {"count": portfolio_export_jobs.MAX_IN_PROGRESS_PER_USER},
        )
    else:
        dispatch.after_commit(generate_portfolio_export, export.pk)
        messages.success(
            request,
            _(
                "Your export is being prepared. You will be notified in your notifications "
                "when it is ready, and it will be here to download."
            ),
        )
    return redirect("core:portfolio_exports")


@permission_required("core.view_portfolio")
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = exports.downloadable(user=current_user(request), pk=pk)
    if export is None:
        raise Http404
    fmt = ExportPortefeuille.Format(export.format)
    response = HttpResponse(
        bytes(export.content or b""), content_type=portfolio_export.CONTENT_TYPES[fmt]
    )
    name = portfolio_export.filename(fmt=fmt, today=export.business_date)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
