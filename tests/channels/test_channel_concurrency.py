"""Two runs at the same time (beat and a manual run, two event jobs): every channel
gets its message once. Real PostgreSQL, one connection per thread."""

from __future__ import annotations

import re

import pytest

from core.models import Canal, MessageCanal
from core.services.channel_messages import queue_channel_events, queue_channel_messages
from core.services.deadlines import create_deadline_alerts
from tests.channels.helpers import block, canal
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory
from tests.services.test_project_concurrency import at_once

RUNS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_queue_each_channels_message_once(postgres_db: None) -> None:
    lead = UserFactory(username="alice")
    for n in range(20):
        projet = ProjetFactory(chef_de_projet=lead)
        owner = UserFactory(username=f"owner{n}")
        MembreProjetFactory(projet=projet, utilisateur=owner)
        TacheFactory(projet=projet, responsable=owner, date_echeance=TODAY)
        canal(projet=projet)
        canal(utilisateur=owner)
    create_deadline_alerts(today=TODAY)

    outcomes = at_once([lambda: queue_channel_messages(today=TODAY, chunk_size=7)] * RUNS)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert MessageCanal.objects.count() == 40 == Canal.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_event_jobs_post_each_event_once(postgres_db: None) -> None:
    lead, owner = UserFactory(username="alice"), UserFactory(username="bob")
    projet = ProjetFactory(chef_de_projet=lead)
    MembreProjetFactory(projet=projet, utilisateur=owner)
    mine = canal(utilisateur=lead)
    canal(projet=projet)
    for n in range(10):
        block(TacheFactory(projet=projet, responsable=owner, nom=f"T{n}"), author=owner)

    outcomes = at_once([queue_channel_events] * RUNS)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    [message] = mine.messages.all()
    assert all(re.search(rf"\bT{n}\b", message.body) for n in range(10))
    assert MessageCanal.objects.filter(canal__projet=projet).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_newer_one_is_posted_all_the_same(postgres_db: None) -> None:
    """A page's change inserts its event (id 1) and keeps its transaction open (the
    portfolio's figures, an import) while another change's event (id 2) commits:
    the event job waits for the first, never moving the watermark past it."""
    import threading

    from django.db import close_old_connections, transaction

    lead, owner = UserFactory(username="alice"), UserFactory(username="bob")
    projet = ProjetFactory(chef_de_projet=lead)
    MembreProjetFactory(projet=projet, utilisateur=owner)
    mine = canal(utilisateur=lead)
    slow_task = TacheFactory(projet=projet, responsable=owner, nom="Lente")
    quick_task = TacheFactory(projet=projet, responsable=owner, nom="Rapide")
    inserted, release = threading.Event(), threading.Event()

    def slow_change() -> None:
        try:
            with transaction.atomic():
                block(slow_task, author=owner)
                inserted.set()
                release.wait(10)
        finally:
            close_old_connections()

    slow = threading.Thread(target=slow_change)
    slow.start()
    assert inserted.wait(10)
    block(quick_task, author=owner)  # committed, a higher id
    job = threading.Thread(target=lambda: (queue_channel_events(), close_old_connections()))
    job.start()
    job.join(1)
    assert job.is_alive()  # it waits for the open change
    release.set()
    slow.join(10)
    job.join(10)

    [message] = mine.messages.all()
    assert "Lente" in message.body and "Rapide" in message.body
