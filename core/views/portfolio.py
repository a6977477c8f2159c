"""The DSI's portfolio (``core.view_portfolio``): every project's health, slips and
trend; its export (CSV, XLSX), written here up to a size (core.services.portfolio_export),
prepared in the background above it (core.views.portfolio_exports)."""

from __future__ import annotations

import tempfile
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.forms import PortfolioFilterForm
from core.models import ExportPortefeuille
from core.selectors import portfolio
from core.services import portfolio_export, portfolio_figures
from core.views.http import permission_required

Format = ExportPortefeuille.Format

PROJECTS_PER_PAGE = 50


def _filter_form(request: HttpRequest) -> PortfolioFilterForm:
    return PortfolioFilterForm(request.GET or None)


@permission_required("core.view_portfolio")
@require_GET
def portfolio_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    portfolio_figures.ensure_fresh(today=today)
    form = _filter_form(request)
    filters = form.filters()
    projets = portfolio.portfolio_projects(today=today, filters=filters)
    page = Paginator(projets, PROJECTS_PER_PAGE).get_page(request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "today": today,
        "form": form,
        "page": page,
        "rows": portfolio.portfolio_rows(list(page.object_list), today=today),
        "totals": portfolio.portfolio_totals(today=today, filters=filters),
        "trend_days": portfolio.trend_days(today=today),
        "query": query.urlencode(),
        # The rows open the application's pages; the admin only from its own link.
        "can_admin_projects": request.user.is_staff and request.user.has_perm("core.change_projet"),
        # Above it, the export buttons ask for a background export (a POST).
        "export_inline": page.paginator.count <= settings.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS,
    }
    return render(request, "core/portfolio.html", context)


@permission_required("core.view_portfolio")
@require_GET
def portfolio_csv(request: HttpRequest) -> HttpResponseBase:
    """The filtered portfolio as CSV for a spreadsheet (semicolons, UTF-8 with BOM)."""
    return _export(request, Format.CSV)


@permission_required("core.view_portfolio")
@require_GET
def portfolio_xlsx(request: HttpRequest) -> HttpResponseBase:
    """The filtered portfolio as an Excel workbook (numbers as numbers)."""
    return _export(request, Format.XLSX)


def _export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Written in the request up to PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS projects;
    above, a page (202) offers to prepare it in the background."""
    today = timezone.localdate()
    form = _filter_form(request)
    filters = form.filters()
    count = portfolio_export.project_count(filters=filters)
    if count > settings.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS:
        context = {"form": form, "format": fmt, "count": count, "query": request.GET.urlencode()}
        return render(request, "core/portfolio_export_offer.html", context, status=202)
    name = portfolio_export.filename(fmt=fmt, today=today)
    content_type = portfolio_export.CONTENT_TYPES[Format(fmt)]
    if fmt == Format.XLSX:
        # On disk (openpyxl zips the sheet at the end); FileResponse closes it.
        out = tempfile.TemporaryFile()  # noqa: SIM115
        portfolio_export.write_xlsx(out, today=today, filters=filters)
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=name, content_type=content_type)
    lines = portfolio_export.csv_lines(today=today, filters=filters)
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
