"""core.services.update_limits: one person cannot flood a task's history (at most
10 entries per task per 10 minutes, 100 a day by default); nothing is saved when
an update is refused, and nobody else is slowed down."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.models import HistoriqueTache, Tache
from core.services import task_updates
from core.services.update_limits import TooManyUpdates, require_allowance
from tests.conftest import TODAY
from tests.factories import TacheFactory

T0 = datetime.datetime.combine(TODAY, datetime.time(10, 0), tzinfo=ZoneInfo("Europe/Paris"))
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tache(world):
    return TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)


def comment(tache: Tache, user, text: str = "Point d'avancement") -> None:
    task_updates.update_progress(
        tache_id=tache.pk,
        author=user,
        statut=tache.statut,
        avancement=tache.avancement,
        comment=text,
        today=TODAY,
    )


def test_the_eleventh_update_within_ten_minutes_is_refused_and_saves_nothing(world, tache, clock):
    for _ in range(10):
        comment(tache, world.bob)
    clock.shift(9 * MINUTE)

    with pytest.raises(TooManyUpdates, match="10"):
        task_updates.update_progress(
            tache_id=tache.pk,
            author=world.bob,
            statut=Tache.Statut.EN_COURS,
            avancement=70,
            comment="Encore un",
            today=TODAY,
        )

    tache.refresh_from_db()
    assert (tache.statut, tache.avancement) == (Tache.Statut.A_FAIRE, 0)
    assert HistoriqueTache.objects.filter(tache=tache).count() == 10


def test_once_the_window_has_passed_the_update_is_accepted(world, tache, clock):
    for _ in range(10):
        comment(tache, world.bob)
    clock.shift(10 * MINUTE + datetime.timedelta(seconds=1))

    comment(tache, world.bob, "Après la pause")

    assert HistoriqueTache.objects.filter(tache=tache, motif="Après la pause").exists()


def test_another_task_and_another_author_are_not_affected(world, tache, clock):
    other = TacheFactory(projet=world.projet, responsable=world.bob)
    for _ in range(10):
        comment(tache, world.bob)

    comment(other, world.bob, "Autre tâche")
    comment(tache, world.alice, "La cheffe de projet")

    assert HistoriqueTache.objects.filter(tache=other, auteur=world.bob).count() == 1
    assert HistoriqueTache.objects.filter(tache=tache, auteur=world.alice).count() == 1


def test_the_daily_limit_counts_every_task(world, clock, settings):
    settings.TASK_UPDATE_DAILY_LIMIT = 3
    taches = TacheFactory.create_batch(4, projet=world.projet, responsable=world.bob)
    for tache in taches[:3]:
        comment(tache, world.bob)
        clock.shift(MINUTE)

    with pytest.raises(TooManyUpdates, match="24"):
        comment(taches[3], world.bob)
    clock.shift(datetime.timedelta(hours=24))
    comment(taches[3], world.bob)

    assert HistoriqueTache.objects.filter(tache=taches[3]).count() == 1


def test_the_lead_edit_is_limited_but_not_the_admin_nor_a_change_without_history(
    world, tache, clock, settings
):
    settings.TASK_UPDATE_LIMIT = 1
    tache.date_echeance = TODAY + 3 * DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Décalage")

    tache.date_echeance = TODAY + 6 * DAY
    with pytest.raises(TooManyUpdates):
        task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Encore")
    tache.refresh_from_db()
    assert tache.date_echeance == TODAY + 3 * DAY

    tache.description = "Précisée"  # no tracked field: no history, no limit
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Texte")
    tache.date_echeance = TODAY + 9 * DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, rate_limited=False)
    tache.refresh_from_db()
    assert (tache.description, tache.date_echeance) == ("Précisée", TODAY + 9 * DAY)


def test_the_limit_is_counted_in_one_query(world, tache, clock, django_assert_num_queries):
    with django_assert_num_queries(1):
        require_allowance(author=world.bob, tache_id=tache.pk, now=T0)
