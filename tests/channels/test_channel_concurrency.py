"""Two runs at the same time (beat and a manual run, two event jobs): every channel
gets its message once. Real PostgreSQL, one connection per thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from core.models import Canal, MessageCanal, Tache
from core.services.channel_messages import queue_channel_events, queue_channel_messages
from core.services.deadlines import create_deadline_alerts
from core.services.task_events import Change, record_events
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory

RUNS = 4


def _at_once(job: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(RUNS)
    outcomes: list[Any] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(job())
        except BaseException as exc:  # reported to the main thread, below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _canal(**owner: Any) -> Canal:
    return Canal.objects.create(nom="Équipe", url="json://127.0.0.1:9/h", url_masquee="x", **owner)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_queue_each_channels_message_once(postgres_db: None) -> None:
    lead = UserFactory(username="alice")
    for n in range(20):
        projet = ProjetFactory(chef_de_projet=lead)
        owner = UserFactory(username=f"owner{n}")
        MembreProjetFactory(projet=projet, utilisateur=owner)
        TacheFactory(projet=projet, responsable=owner, date_echeance=TODAY)
        _canal(projet=projet)
        _canal(utilisateur=owner)
    create_deadline_alerts(today=TODAY)

    outcomes = _at_once(lambda: queue_channel_messages(today=TODAY, chunk_size=7))

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert MessageCanal.objects.count() == 40 == Canal.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_event_jobs_post_each_event_once(postgres_db: None) -> None:
    lead, owner = UserFactory(username="alice"), UserFactory(username="bob")
    projet = ProjetFactory(chef_de_projet=lead)
    MembreProjetFactory(projet=projet, utilisateur=owner)
    mine = _canal(utilisateur=lead)
    _canal(projet=projet)
    for n in range(10):
        tache = TacheFactory(projet=projet, responsable=owner, nom=f"T{n}")
        tache.statut = Tache.Statut.BLOQUEE
        tache.save()
        record_events(
            Change(
                tache=tache,
                author=owner,
                reason="x",
                old_statut=Tache.Statut.A_FAIRE,
                old_echeance=tache.date_echeance,
                old_responsable_id=owner.pk,
            )
        )

    outcomes = _at_once(queue_channel_events)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    [message] = mine.messages.all()
    assert all(f"T{n} " in message.body for n in range(10))
    assert MessageCanal.objects.filter(canal__projet=projet).count() == 1
