"""Every error of the API is JSON with a French ``detail``; a refused value also
says which field and why (``errors``). The OpenAPI document lists these answers
on every operation (core.api.schema)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.services.update_limits import TooManyUpdates


class UpdateRefused(exceptions.APIException):
    """The update limits (core.services.update_limits): nothing was saved."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_updates"


# The site's words for DRF's generic errors, whatever detail DRF or Django gave
# (Django's 404 names the model in English; DRF's catalogue differs in tone).
MESSAGES: dict[type[exceptions.APIException], Any] = {
    exceptions.NotAuthenticated: gettext_lazy(
        "Authentication required: send “Authorization: Bearer <token>”."
    ),
    exceptions.NotFound: gettext_lazy("Not found, or not visible to you."),
    exceptions.ParseError: gettext_lazy("The request body is not valid JSON."),
    exceptions.UnsupportedMediaType: gettext_lazy("Send the request body as JSON."),
    exceptions.NotAcceptable: gettext_lazy("This API answers in JSON only."),
    exceptions.MethodNotAllowed: gettext_lazy("This method is not allowed here."),
}
FORBIDDEN = gettext_lazy("You may not do this.")
INVALID = gettext_lazy("Some values are refused: see errors.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, TooManyUpdates):
        exc = UpdateRefused(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's handler, logged
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response.data = _body(exc, response.data)
    return response


@csrf_exempt  # changes nothing; a POST to a wrong path is a 404 too, not a CSRF page
def not_found(request: HttpRequest) -> JsonResponse:
    """A path of the API that names nothing."""
    return JsonResponse({"detail": str(MESSAGES[exceptions.NotFound])}, status=404)


def _body(exc: Exception, data: Any) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"detail": str(INVALID), "errors": {k: _flat(v) for k, v in errors.items()}}
    if isinstance(exc, exceptions.Throttled):
        seconds = int(exc.wait or 1)
        message = ngettext(
            "Too many requests with this token: try again in %(seconds)d second.",
            "Too many requests with this token: try again in %(seconds)d seconds.",
            seconds,
        )
        return {"detail": message % {"seconds": seconds}}
    if (generic := MESSAGES.get(type(exc))) is not None:
        return {"detail": str(generic)}
    detail = getattr(exc, "detail", "")
    if isinstance(exc, exceptions.PermissionDenied) and detail == exc.default_detail:
        return {"detail": str(FORBIDDEN)}
    return {"detail": str(detail)}


def _flat(value: Any) -> list[str]:
    """A field's messages as a list of strings, however DRF nested them (a list
    field's items, a nested serializer)."""
    if isinstance(value, dict):
        return [message for item in value.values() for message in _flat(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _flat(item)]
    return [str(value)]
