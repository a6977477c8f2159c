"""The portfolio import page (``core.add_projet``): upload, preview, confirm.

The upload is kept server-side under a random token held by the session
(``core.services.import_uploads``); the preview is a dry run of that file, and
the confirmation applies that same file, then deletes it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import portfolio_import_text as text
from core.forms import IMPORT_MAX_BYTES, PortfolioImportForm
from core.services import import_uploads
from core.services.portfolio_import import ImportResult, import_portfolio
from core.services.portfolio_template import template_xlsx
from core.text import header_safe
from core.views.http import current_user, permission_required

PERMISSION = "core.add_projet"
SESSION_KEY = "portfolio_import"
MB = IMPORT_MAX_BYTES // (1024 * 1024)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request: HttpRequest, form: PortfolioImportForm, **context: Any) -> HttpResponse:
    result: ImportResult | None = context.get("result")
    context["no_events"] = text.no_events()
    if result is not None:
        context["heading"] = text.heading(result)
        if result.ok:
            context["counts"] = text.count_lines(result)
            context["changes"] = [text.change_line(change) for change in result.changes]
        else:
            context["errors"] = text.error_lines(result)
            context["refusal"] = text.refusal(result)
    return render(request, "core/portfolio_import.html", {"form": form, **context})


@permission_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def portfolio_import(request: HttpRequest) -> HttpResponse:
    """The upload form; on POST, the preview of the file (nothing written)."""
    if request.method == "POST" and _too_large(request):
        form = PortfolioImportForm()
        form.add_error(None, _("The file is too large: at most %(size)d MB.") % {"size": MB})
        return _page(request, form)
    form = PortfolioImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return _page(request, form)
    _forget(request)
    upload = form.cleaned_data["fichier"]
    token = import_uploads.keep(upload.chunks())
    path = import_uploads.path_of(token)
    assert path is not None
    name = header_safe(Path(upload.name or "import").name)[:200]  # it goes to the history
    result = import_portfolio(path=path, file_name=name, author=current_user(request), dry_run=True)
    if not result.ok:
        import_uploads.discard(token)
        return _page(request, form, result=result)
    request.session[SESSION_KEY] = {"token": token, "name": name}
    return _page(request, PortfolioImportForm(), result=result, token=token)


@permission_required(PERMISSION)
@require_POST
def portfolio_import_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the file previewed in this session, then delete it."""
    kept = request.session.get(SESSION_KEY) or {}
    token = str(kept.get("token", ""))
    sent = request.POST.get("token", "")
    path = import_uploads.path_of(token) if token else None
    if path is None or not secrets.compare_digest(token, sent):
        messages.error(request, _("This preview is no longer valid: send the file again."))
        return redirect("core:portfolio_import")
    try:
        result = import_portfolio(
            path=path, file_name=kept["name"], author=current_user(request), dry_run=False
        )
    finally:
        _forget(request)
    if not result.ok:  # the database changed since the preview
        return _page(request, PortfolioImportForm(), result=result)
    messages.success(request, " ".join([text.heading(result), *text.count_lines(result)]))
    return redirect("core:portfolio_import")


def _too_large(request: HttpRequest) -> bool:
    """Refused before Django reads the body: a huge upload never reaches the disk."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > IMPORT_MAX_BYTES + 64 * 1024  # room for the form's other parts


def _forget(request: HttpRequest) -> None:
    """Delete the file this session previewed, if any."""
    kept = request.session.pop(SESSION_KEY, None) or {}
    if token := kept.get("token"):
        import_uploads.discard(str(token))


@permission_required(PERMISSION)
@require_GET
def portfolio_import_template(request: HttpRequest) -> HttpResponse:
    """The template as an XLSX workbook (the CSV one is a static file)."""
    response = HttpResponse(template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="modele_import_portefeuille.xlsx"'
    return response
