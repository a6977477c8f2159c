"""The owner snoozes a task's advance alerts until a date with a reason; the lead
and the owner see it; lifting it brings the alerts back."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import NotificationTache, Tache
from core.services import task_updates
from core.services.deadlines import create_deadline_alerts
from tests.conftest import World
from tests.factories import TacheFactory
from tests.web.conftest import PARIS, client_for

WED, THU, FRI = datetime.date(2027, 3, 3), datetime.date(2027, 3, 4), datetime.date(2027, 3, 5)
NEXT_MON = datetime.date(2027, 3, 8)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(datetime.datetime(2027, 3, 3, 10, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def tache(world: World) -> Tache:
    return TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=NEXT_MON
    )


def snooze(client, tache: Tache, until: str, motif: str = "Attente du prestataire"):
    url = reverse("core:task_snooze", args=[tache.pk])
    return client.post(url, {"jusqu_au": until, "motif": motif}, follow=True)


def test_the_owner_snoozes_and_the_lead_sees_it(world: World, tache: Tache) -> None:
    owner = client_for(world.bob)
    assert 'id="snooze-link"' in owner.get(tache.get_absolute_url()).content.decode()

    response = snooze(owner, tache, "2027-03-05")

    tache.refresh_from_db()
    assert (tache.report_alertes_jusqu_au, tache.report_motif, tache.report_par) == (
        FRI,
        "Attente du prestataire",
        world.bob,
    )
    shown = (
        "Alertes avant échéance suspendues jusqu'au 5\xa0mars 2027 par Bob Durand\xa0: "
        "Attente du prestataire"
    )
    assert shown in response.content.decode()
    lead_page = client_for(world.alice).get(tache.get_absolute_url()).content.decode()
    assert shown in lead_page
    assert 'id="snooze-link"' not in lead_page  # the owner's to set
    assert "Attente du prestataire" not in (
        client_for(world.charlie).get(tache.get_absolute_url()).content.decode()
    )


def test_the_snooze_silences_the_owners_advance_alerts_until_it_ends(
    world: World, tache: Tache
) -> None:
    snooze(client_for(world.bob), tache, "2027-03-04")

    for day in (THU, FRI):
        create_deadline_alerts(today=day)

    # Friday carries Monday's two advance alerts (the weekend's): the day after
    # the snooze ends, they come again.
    assert list(NotificationTache.objects.values_list("date_alerte", "destinataire")) == [
        (FRI, world.bob.pk)
    ]


@pytest.mark.parametrize(
    ("until", "error"),
    [
        ("2027-03-03", "Choisissez une date à partir de demain."),
        ("2027-03-09", "La suspension se termine au plus tard à la date d'échéance."),
    ],
    ids=["today", "after-the-due-date"],
)
def test_dates_out_of_bounds_are_refused_in_french(
    world: World, tache: Tache, until: str, error: str
) -> None:
    response = snooze(client_for(world.bob), tache, until)

    assert response.context["form"].errors["jusqu_au"] == [error]
    tache.refresh_from_db()
    assert tache.report_alertes_jusqu_au is None


def test_a_reason_is_required(world: World, tache: Tache) -> None:
    response = snooze(client_for(world.bob), tache, "2027-03-05", motif="  ")
    assert "motif" in response.context["form"].errors


def test_the_due_date_itself_is_the_last_day_allowed(world: World, tache: Tache) -> None:
    snooze(client_for(world.bob), tache, "2027-03-08")
    tache.refresh_from_db()
    assert tache.report_alertes_jusqu_au == NEXT_MON


def test_only_the_owner_snoozes_or_lifts(world: World, tache: Tache) -> None:
    for user in (world.alice, world.charlie):
        response = snooze(client_for(user), tache, "2027-03-05")
        assert response.status_code in (403, 404), user
        unsnooze = reverse("core:task_unsnooze", args=[tache.pk])
        assert client_for(user).post(unsnooze).status_code in (403, 404), user
    tache.refresh_from_db()
    assert tache.report_alertes_jusqu_au is None


def test_the_owner_lifts_the_snooze(world: World, tache: Tache) -> None:
    client = client_for(world.bob)
    snooze(client, tache, "2027-03-05")
    page = client.get(tache.get_absolute_url()).content.decode()
    assert 'id="unsnooze-link"' in page and 'id="snooze-link"' not in page
    unsnooze = reverse("core:task_unsnooze", args=[tache.pk])
    assert 'id="confirm-unsnooze-button"' in client.get(unsnooze).content.decode()

    response = client.post(unsnooze, follow=True)

    tache.refresh_from_db()
    assert (tache.report_alertes_jusqu_au, tache.report_motif, tache.report_par) == (None, "", None)
    assert "suspendues" not in response.content.decode()
    create_deadline_alerts(today=THU)
    assert NotificationTache.objects.filter(destinataire=world.bob).count() == 0  # J-2 is Friday


def test_snoozing_needs_the_csrf_token(world: World, tache: Tache) -> None:
    guarded = client_for(world.bob, enforce_csrf_checks=True)
    url = reverse("core:task_snooze", args=[tache.pk])

    assert guarded.post(url, {"jusqu_au": "2027-03-05", "motif": "x"}).status_code == 403
    tache.refresh_from_db()
    assert tache.report_alertes_jusqu_au is None


def test_a_task_due_today_has_no_advance_alert_to_snooze(world: World) -> None:
    due_today = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=WED)
    page = client_for(world.bob).get(due_today.get_absolute_url()).content.decode()
    assert 'id="snooze-link"' not in page


def test_a_new_owner_does_not_inherit_the_snooze_a_lead_edit_keeps_it(
    world: World, tache: Tache
) -> None:
    task_updates.snooze_advance_alerts(
        tache_id=tache.pk, author=world.bob, until=FRI, reason="Attente", today=WED
    )
    tache.refresh_from_db()
    tache.nom = "Recette v2"
    task_updates.save_task(tache=tache, author=world.alice, today=WED)
    tache.refresh_from_db()
    assert (tache.report_alertes_jusqu_au, tache.report_par) == (FRI, world.bob)

    tache.responsable = world.alice
    task_updates.save_task(tache=tache, author=world.alice, today=WED)
    tache.refresh_from_db()
    assert (tache.report_alertes_jusqu_au, tache.report_motif, tache.report_par) == (None, "", None)


def test_the_service_refuses_a_snooze_out_of_bounds(world: World, tache: Tache) -> None:
    for until in (WED, NEXT_MON + datetime.timedelta(days=1)):
        with pytest.raises(ValidationError):
            task_updates.snooze_advance_alerts(
                tache_id=tache.pk, author=world.bob, until=until, reason="x", today=WED
            )
    assert task_updates.snooze_advance_alerts(
        tache_id=tache.pk, author=world.bob, until=FRI, reason="x", today=WED
    )
    assert not task_updates.snooze_advance_alerts(
        tache_id=tache.pk, author=world.bob, until=FRI, reason="x", today=WED
    )
