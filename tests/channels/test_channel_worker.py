"""Through a real Celery worker process: the morning's alerts reach the chat service."""

from __future__ import annotations

import pytest

from core.models import Canal, MessageCanal
from core.services.channel_urls import masked
from core.tasks import check_task_deadlines
from tests.celery.conftest import wait_for
from tests.celery.test_worker_end_to_end import due_today_for_bob

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def test_worker_posts_the_days_alerts_to_the_project_channel_after_commit(
    world,
    chat_server,
    tmp_path,
    use_broker,
    start_worker,
):
    due_today_for_bob(world)  # the worker's "today" is the real one
    url = chat_server.url()
    Canal.objects.create(nom="Équipe", url=url, url_masquee=masked(url), projet=world.projet)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    worker = start_worker(
        broker, CHANNEL_ALLOW_PRIVATE_ADDRESSES="true"
    )  # the chat server is local

    result = check_task_deadlines.delay().get(timeout=60)
    assert result["status"] == "success" and result["channel_messages_queued"] == 1
    wait_for(lambda: len(chat_server.posts) == 1, timeout=60, what="the post", workers=(worker,))

    [post] = chat_server.messages
    assert "Recette de la migration" in post["message"] and "Refonte du portail" in post["title"]
    assert set(MessageCanal.objects.values_list("status", flat=True)) == {"SENT"}
