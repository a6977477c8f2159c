"""Supervision of the periodic jobs (``core.view_supervision``): runs, schedule, worker,
outbox; the run-now button needs ``core.run_job``."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import tasks  # noqa: F401  (registers the jobs' tasks with celery_app)
from core.jobs import dispatch, registry
from core.jobs.plans import job_plans
from core.models import JobRun
from core.selectors import health, liveness, supervision
from core.views.http import permission_required
from si_gouvernance.celery import app as celery_app

logger = logging.getLogger(__name__)


@permission_required("core.view_supervision")
@require_GET
def supervision_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    statuses = health.job_statuses(jobs=registry.JOBS, plans=job_plans(registry.JOBS, now=now))
    outbox = liveness.outbox_figures(now=now)
    queued = (request.GET.get("job", ""), request.GET.get("queued", ""))
    context = {
        "jobs": supervision.job_panels(statuses, now=now, queued=queued),
        "runnable": RUNNABLE,
        "worker": health.worker_status(app=celery_app),
        "outbox": outbox,
        "liveness": liveness.liveness(now=now, outbox=outbox),
        "flower_url": settings.FLOWER_URL,
    }
    return render(request, "core/supervision.html", context)


# The jobs an operator may run from the page: the recorded ones (daily and weekly).
RUNNABLE = frozenset(job.key for job in registry.JOBS if job.recorded)


@permission_required("core.run_job")
@require_POST
def run_job_now(request: HttpRequest, key: str) -> HttpResponse:
    """Queue ``key``'s job now, then back to the page with the run shown pending;
    safe to press twice, the engine never duplicates."""
    job = next((job for job in registry.JOBS if job.key == key), None)
    if job is None or key not in RUNNABLE:
        raise Http404
    try:
        task_id = dispatch.publish_now(
            celery_app.tasks[job.task], kwargs={"trigger": JobRun.Trigger.MANUAL.value}
        )
    except Exception as exc:  # broker down: say so, do not pretend it was queued
        logger.warning("Could not queue %s: %s", key, exc)
        messages.error(
            request,
            _("%(job)s could not be queued: %(error)s") % {"job": job.label, "error": exc},
        )
        return redirect(f"{reverse('core:supervision')}#job-{key}")
    link = format_html(
        '<a href="{}">{}</a>', supervision.task_result_url(task_id), _("see its result")
    )
    messages.success(request, format_html(_("{job}: queued ({link})."), job=job.label, link=link))
    query = urlencode({"job": key, "queued": task_id})
    return redirect(f"{reverse('core:supervision')}?{query}#job-{key}")
