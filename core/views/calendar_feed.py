"""The calendar subscription: the feed itself (no session: the secret in its
address is the credential) and, on the preferences page, regenerating its
address (shown once, in the answer to the POST) or revoking it."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.access_log import redact_url
from core.calendar_ics import feed_document
from core.selectors.calendar_feeds import feed_items
from core.services import calendar_feeds
from core.services.secret_tokens import fingerprint
from core.site_url import site_url
from core.views.http import current_user
from core.views.preferences import render_preferences

# Reads of one feed address per hour before 429: calendar clients read it every
# hour at most (calendar_ics.REFRESH); a loop or a misconfigured tool is cut.
READS_PER_HOUR = 60
HOUR = 3600


@require_safe
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """Five queries at most, however many tasks: the feed and its owner, the
    last-used date (once a minute), the tasks owned, the tasks led, the phases."""
    if retry_after := _over_rate(secret):
        refused = HttpResponse(status=429, headers={"Retry-After": str(retry_after)})
        return _logged(request, refused)
    user = calendar_feeds.feed_owner(secret)
    if user is None:
        return _logged(request, HttpResponse(status=404))
    now = timezone.now()
    items = feed_items(user=user, today=timezone.localdate(now))
    response = HttpResponse(
        feed_document(user=user, items=items, now=now),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="si-gouvernance.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _over_rate(secret: str) -> int:
    """0 if this read is within the hour's allowance, else the seconds to wait.
    Counted per address in the default cache (per web process unless CACHES names
    a shared one), under the secret's hash, never the secret."""
    window = int(time.time()) // HOUR
    key = f"calendar-feed:{fingerprint(secret)}:{window}"
    cache.add(key, 0, timeout=HOUR)
    try:
        reads = cache.incr(key)
    except ValueError:  # expired between add and incr: this read starts a new hour
        reads = 1
    return 0 if reads <= READS_PER_HOUR else (window + 1) * HOUR - int(time.time())


def _logged(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Django's own refusal line, without the secret: the path is redacted."""
    log_response(
        "%s: %s",
        response.reason_phrase,
        redact_url(request.path),
        response=response,
        request=request,
    )
    return response


@login_required
@require_POST
def calendar_feed_regenerate(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    secret = calendar_feeds.regenerate_feed(user=user)
    address = site_url() + reverse("core:calendar_feed", args=[secret.value])
    return render_preferences(request, user=user, new_feed_url=address)


@login_required
@require_POST
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    if calendar_feeds.revoke_feed(user=current_user(request)):
        messages.success(
            request, _("Your calendar address is revoked: calendars subscribed to it get nothing.")
        )
    return redirect("core:preferences")
