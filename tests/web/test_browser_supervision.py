"""In a real browser: a run queued from the supervision page shows pending, then its
panel updates by itself once a worker has started it (no reload)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.models import JobRun
from tests.web import test_browser
from tests.web.test_browser import shoot, sign_in

browser_page = test_browser.browser_page
demo = test_browser.demo
no_broker = test_browser.no_broker

pytestmark = pytest.mark.browser


def test_a_queued_run_shows_pending_then_updates_without_a_reload(
    live_server, demo, browser_page, no_broker
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "admin")
    page.goto(
        f"{base}/supervision/?job=check_task_deadlines&queued=run-42#job-check_task_deadlines"
    )
    pending = page.locator("#queued-check_task_deadlines")
    assert "en attente d'un processus Celery" in pending.inner_text()
    shoot(page, "supervision_queued")

    # A worker takes the run: the page asks again within 3 s and shows it.
    now = timezone.now()
    JobRun.objects.create(
        job="check_task_deadlines",
        trigger=JobRun.Trigger.MANUAL,
        business_date=timezone.localdate(),
        status=JobRun.Status.RUNNING,
        started_at=now,
        task_id="run-42",
    )
    pending.wait_for(state="detached", timeout=10_000)
    panel = page.inner_text("#job-check_task_deadlines")
    assert "en cours depuis" in panel
    assert "Manuel" in panel
