"""Supervision of the periodic jobs (``core.view_supervision``): runs, schedule, worker,
outbox; the run-now button needs ``core.run_job``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import tasks
from core.jobs import dispatch, registry
from core.jobs.plans import job_plans
from core.models import JobRun
from core.selectors import health, supervision
from core.views.http import permission_required
from si_gouvernance.celery import app as celery_app

logger = logging.getLogger(__name__)


@permission_required("core.view_supervision")
@require_GET
def supervision_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    statuses = health.job_statuses(jobs=registry.JOBS, plans=job_plans(registry.JOBS, now=now))
    outbox = health.outbox_figures(now=now)
    context = {
        "jobs": supervision.job_panels(statuses),
        "worker": health.worker_status(app=celery_app),
        "outbox": outbox,
        "liveness": health.liveness(now=now, outbox=outbox),
        "flower_url": settings.FLOWER_URL,
    }
    return render(request, "core/supervision.html", context)


@permission_required("core.run_job")
@require_POST
def run_deadline_check(request: HttpRequest) -> HttpResponse:
    """Queue the daily check now; safe to press twice, the engine never duplicates."""
    try:
        task_id = dispatch.publish_now(
            tasks.check_task_deadlines, kwargs={"trigger": JobRun.Trigger.MANUAL.value}
        )
    except Exception as exc:  # broker down: say so, do not pretend it was queued
        logger.warning("Could not queue the deadline check: %s", exc)
        messages.error(
            request,
            _("The deadline check could not be queued: %(error)s") % {"error": exc},
        )
    else:
        link = format_html(
            '<a href="{}">{}</a>', supervision.task_result_url(task_id), _("see its result")
        )
        messages.success(request, format_html(_("Deadline check queued ({link})."), link=link))
    return redirect("core:supervision")
