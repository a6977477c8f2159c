"""Through a real Celery worker process: the morning's alerts reach the chat service."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.models import Canal, MessageCanal
from core.services.channel_urls import masked
from core.tasks import check_task_deadlines
from tests.celery.conftest import (  # noqa: F401  (fixtures shared with the Celery tests)
    start_worker,
    use_broker,
    wait_for,
    worker_database,
)
from tests.factories import TacheFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def test_worker_posts_the_days_alerts_to_the_project_channel_after_commit(
    world,
    chat_server,
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
    url = chat_server.url()
    Canal.objects.create(nom="Équipe", url=url, url_masquee=masked(url), projet=world.projet)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    worker = start_worker(broker)

    result = check_task_deadlines.delay().get(timeout=60)
    assert result["status"] == "success" and result["channel_messages_queued"] == 1
    wait_for(lambda: len(chat_server.posts) == 1, timeout=60, what="the post", workers=(worker,))

    [post] = chat_server.messages
    assert "Recette" in post["message"] and "Refonte du portail" in post["title"]
    assert set(MessageCanal.objects.values_list("status", flat=True)) == {"SENT"}
