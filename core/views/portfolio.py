"""The DSI's portfolio (``core.view_portfolio``): every project's health, slips and
trend; CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.csv_cells import safe_row
from core.forms import PortfolioFilterForm
from core.selectors import portfolio
from core.services import portfolio_figures
from core.views.http import permission_required

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
    }
    return render(request, "core/portfolio.html", context)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv rows."""

    def write(self, value: str) -> str:
        return value


@permission_required("core.view_portfolio")
@require_GET
def portfolio_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered portfolio as CSV for a spreadsheet (semicolons, UTF-8 with BOM)."""
    today = timezone.localdate()
    portfolio_figures.ensure_fresh(today=today)
    filters = _filter_form(request).filters()
    response = StreamingHttpResponse(
        _csv_lines(today=today, filters=filters), content_type="text/csv; charset=utf-8"
    )
    name = f"portefeuille-{today.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_lines(*, today: Any, filters: portfolio.PortfolioFilters) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    weeks = [
        _("Late on %(date)s") % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")}
        for day in portfolio.trend_days(today=today)
    ]
    header = [
        _("Project"),
        _("Code"),
        _("Project lead"),
        _("Status"),
        _("Open tasks"),
        _("Late tasks"),
        _("Due today"),
        _("Slipped due dates"),
        *weeks,
    ]
    yield "\ufeff" + writer.writerow(safe_row(header))
    for row in portfolio.all_rows(today=today, filters=filters):
        yield writer.writerow(safe_row(_csv_cells(row)))


def _csv_cells(row: portfolio.PortfolioRow) -> list[object]:
    projet = row.projet
    return [
        projet.nom,
        projet.code,
        str(projet.chef_de_projet),
        projet.get_statut_display(),
        row.open_count,
        row.late_count,
        row.due_today_count,
        row.slip_count,
        *row.trend,
    ]
