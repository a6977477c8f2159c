"""Through a real Celery worker process: alerts and summary reach the SMTP server."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.models import OutboundEmail
from core.tasks import check_task_deadlines, send_daily_summary
from tests.celery.conftest import (  # noqa: F401  (fixtures shared with the Celery tests)
    start_worker,
    use_broker,
    wait_for,
    worker_database,
)
from tests.factories import TacheFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.smtp]


def test_worker_sends_alert_emails_and_summary_after_commit(
    world,
    smtp_server,
    tmp_path,
    use_broker,  # noqa: F811
    start_worker,  # noqa: F811
):
    # The worker's "today" is the real one.
    TacheFactory(
        projet=world.projet,
        responsable=world.bob,
        date_echeance=timezone.localdate(),
        nom="Recette",
    )
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    worker = start_worker(
        broker,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
    )

    assert check_task_deadlines.delay().get(timeout=60)["status"] == "success"
    wait_for(
        lambda: len(smtp_server.received) == 2, timeout=60, what="2 alert emails", workers=(worker,)
    )
    send_daily_summary.delay().get(timeout=60)
    wait_for(
        lambda: len(smtp_server.received) == 3, timeout=60, what="the summary", workers=(worker,)
    )

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "alice@dsi.example.org",
        "alice@dsi.example.org",
        "bob@dsi.example.org",
    ]
    assert all("Recette" in r.text and "Recette" in r.html for r in smtp_server.received)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"SENT"}
