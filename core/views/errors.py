"""Error pages that Django does not render from a plain template name."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template import loader


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (expired page, cookies blocked): French, inside the layout.

    ``reason`` is Django's technical explanation; it is logged by Django
    (``django.security.csrf``), not shown to the user.
    """
    page = loader.render_to_string("403_csrf.html", request=request)
    return HttpResponseForbidden(page)
