"""core.services.task_updates: every change of status, due date, owner or progress leaves a
history row (who, when, old → new, why); the completion date follows the status."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from core.models import HistoriqueTache, NotificationTache, Tache
from core.services import task_updates
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import NotificationFactory, TacheFactory

DAY = datetime.timedelta(days=1)
Champ = HistoriqueTache.Champ


@pytest.fixture
def tache(world):
    return TacheFactory(
        projet=world.projet, nom="Migrer l'annuaire", responsable=world.bob, date_echeance=TODAY
    )


def history(tache) -> list[tuple]:
    return list(
        HistoriqueTache.objects.filter(tache=tache)
        .order_by("id")
        .values_list("champ", "auteur__username", "motif")
    )


def test_creation_opens_the_history(world):
    tache = Tache(projet=world.projet, nom="Nouvelle", responsable=world.bob, date_echeance=TODAY)

    task_updates.create_task(tache=tache, author=world.alice, today=TODAY)

    [row] = HistoriqueTache.objects.filter(tache=tache)
    assert (row.champ, row.auteur, row.nouveau_responsable) == (
        Champ.CREATION,
        world.alice,
        world.bob,
    )
    assert (row.nouveau_statut, row.nouvelle_echeance) == (Tache.Statut.A_FAIRE, TODAY)


def test_lead_edit_writes_one_row_per_changed_field(world, tache):
    tache.statut = Tache.Statut.EN_COURS
    tache.date_echeance = TODAY + 7 * DAY
    tache.responsable = world.alice
    tache.nom = "Renommée"  # not tracked

    rows = task_updates.save_task(
        tache=tache, author=world.alice, today=TODAY, reason="Fournisseur en retard"
    )

    assert {row.champ for row in rows} == {Champ.STATUT, Champ.ECHEANCE, Champ.RESPONSABLE}
    by_field = {row.champ: row for row in HistoriqueTache.objects.filter(tache=tache)}
    assert (by_field[Champ.STATUT].ancien_statut, by_field[Champ.STATUT].nouveau_statut) == (
        Tache.Statut.A_FAIRE,
        Tache.Statut.EN_COURS,
    )
    echeance = by_field[Champ.ECHEANCE]
    assert (echeance.ancienne_echeance, echeance.nouvelle_echeance) == (TODAY, TODAY + 7 * DAY)
    assert echeance.is_slip
    owner = by_field[Champ.RESPONSABLE]
    assert (owner.ancien_responsable, owner.nouveau_responsable) == (world.bob, world.alice)
    assert all(row.motif == "Fournisseur en retard" for row in by_field.values())
    assert all(row.auteur == world.alice for row in by_field.values())


def test_saving_without_change_writes_nothing(world, tache):
    assert task_updates.save_task(tache=tache, author=world.alice, today=TODAY) == []
    assert not HistoriqueTache.objects.exists()


def test_due_date_brought_forward_or_cleared_is_not_a_slip(world, tache):
    tache.date_echeance = TODAY - DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)
    tache.date_echeance = None
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)

    assert HistoriqueTache.objects.filter(champ=Champ.ECHEANCE).count() == 2
    assert not HistoriqueTache.objects.filter(HistoriqueTache.SLIP).exists()


def test_owner_update_keeps_the_completion_date_in_step(world, tache):
    task_updates.update_progress(
        tache_id=tache.pk, author=world.bob, statut="TERMINEE", avancement=40, today=TODAY
    )
    tache.refresh_from_db()
    assert (tache.statut, tache.avancement, tache.date_fin_reelle) == ("TERMINEE", 100, TODAY)

    task_updates.update_progress(
        tache_id=tache.pk, author=world.bob, statut="EN_COURS", avancement=80, today=TODAY + DAY
    )
    tache.refresh_from_db()
    assert (tache.statut, tache.avancement, tache.date_fin_reelle) == ("EN_COURS", 80, None)
    # Each update's progress is recorded too: 0 → 100 (done), then 100 → 80.
    assert history(tache) == [
        (Champ.STATUT, "bob", ""),
        (Champ.AVANCEMENT, "bob", ""),
        (Champ.STATUT, "bob", ""),
        (Champ.AVANCEMENT, "bob", ""),
    ]
    progress = HistoriqueTache.objects.filter(tache=tache, champ=Champ.AVANCEMENT).order_by("id")
    assert [(r.ancien_avancement, r.nouvel_avancement) for r in progress] == [(0, 100), (100, 80)]


def test_a_change_of_progress_alone_is_recorded(world, tache):
    rows = task_updates.update_progress(
        tache_id=tache.pk, author=world.bob, statut="A_FAIRE", avancement=30, today=TODAY
    )

    [row] = rows
    assert (row.champ, row.ancien_avancement, row.nouvel_avancement) == (Champ.AVANCEMENT, 0, 30)
    assert history(tache) == [(Champ.AVANCEMENT, "bob", "")]


def test_a_block_needs_its_reason_and_keeps_it(world, tache):
    with pytest.raises(ValidationError):
        task_updates.update_progress(
            tache_id=tache.pk, author=world.bob, statut="BLOQUEE", avancement=0, today=TODAY
        )
    task_updates.report_blocked(
        tache_id=tache.pk, author=world.bob, reason="Accès au serveur refusé", today=TODAY
    )

    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.BLOQUEE
    assert history(tache) == [(Champ.STATUT, "bob", "Accès au serveur refusé")]


def test_a_comment_alone_is_kept(world, tache):
    task_updates.update_progress(
        tache_id=tache.pk,
        author=world.bob,
        statut="A_FAIRE",
        avancement=0,
        comment="J'attends le retour du métier.",
        today=TODAY,
    )
    assert history(tache) == [(Champ.COMMENTAIRE, "bob", "J'attends le retour du métier.")]


def test_an_owner_cannot_set_a_status_reserved_to_the_lead(world, tache):
    with pytest.raises(ValidationError):
        task_updates.update_progress(
            tache_id=tache.pk, author=world.bob, statut="ANNULEE", avancement=0, today=TODAY
        )
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.A_FAIRE


def test_mark_done_once_reads_the_alerts_and_stops_the_next_ones(world, tache):
    tache.date_echeance = TODAY - 2 * DAY
    tache.save()
    create_deadline_alerts(today=TODAY)
    assert NotificationTache.objects.filter(destinataire=world.bob, lue=False).count() == 1
    other = NotificationFactory(destinataire=world.alice, tache=tache)

    assert task_updates.mark_done(tache_id=tache.pk, author=world.bob, today=TODAY)
    assert not task_updates.mark_done(tache_id=tache.pk, author=world.bob, today=TODAY)

    assert not NotificationTache.objects.filter(destinataire=world.bob, lue=False).exists()
    other.refresh_from_db()
    assert not other.lue  # only the closer's own alerts are read
    assert HistoriqueTache.objects.filter(tache=tache, champ=Champ.STATUT).count() == 1
    result = create_deadline_alerts(today=TODAY + DAY)
    assert result.total_created == 0
