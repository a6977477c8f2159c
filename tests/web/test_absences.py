"""A user records, lists and deletes their own absences; nobody else's."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from core.models import Absence
from tests.conftest import World
from tests.web.conftest import PARIS, client_for

WED = datetime.date(2027, 3, 3)
URL = reverse("core:absences")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(datetime.datetime(2027, 3, 3, 10, tzinfo=PARIS), tick=False):
        yield


def test_the_preferences_page_links_to_the_absences(world: World) -> None:
    page = client_for(world.bob).get(reverse("core:preferences")).content.decode()
    assert f'href="{URL}"' in page


def test_a_user_records_and_lists_an_absence(world: World) -> None:
    client = client_for(world.bob)

    response = client.post(
        URL, {"debut": "2027-03-08", "fin": "2027-03-12", "motif": "Congés"}, follow=True
    )

    absence = Absence.objects.get()
    assert (absence.utilisateur, absence.debut, absence.fin, absence.motif) == (
        world.bob,
        datetime.date(2027, 3, 8),
        datetime.date(2027, 3, 12),
        "Congés",
    )
    page = response.content.decode()
    assert "Votre absence est enregistrée." in page
    assert "8\xa0mars 2027" in page and "12\xa0mars 2027" in page and "Congés" in page


def test_an_end_before_the_start_is_refused_in_french(world: World) -> None:
    response = client_for(world.bob).post(URL, {"debut": "2027-03-12", "fin": "2027-03-08"})

    assert response.status_code == 400
    assert response.context["form"].errors["fin"] == [
        "La date de fin doit être le même jour que la date de début ou après."
    ]
    assert not Absence.objects.exists()


def test_a_one_day_absence_is_fine(world: World) -> None:
    client_for(world.bob).post(URL, {"debut": "2027-03-08", "fin": "2027-03-08"})
    assert Absence.objects.filter(debut=datetime.date(2027, 3, 8)).count() == 1


def test_nobody_sees_or_deletes_anothers_absence(world: World) -> None:
    bobs = Absence.objects.create(
        utilisateur=world.bob, debut=WED, fin=WED, motif="Rendez-vous médical"
    )
    client = client_for(world.charlie)

    assert "Rendez-vous médical" not in client.get(URL).content.decode()
    response = client.post(reverse("core:absence_delete", args=[bobs.pk]))

    assert response.status_code == 404
    assert Absence.objects.filter(pk=bobs.pk).exists()


def test_a_user_deletes_their_own_absence(world: World) -> None:
    absence = Absence.objects.create(utilisateur=world.bob, debut=WED, fin=WED)
    client = client_for(world.bob)

    response = client.post(reverse("core:absence_delete", args=[absence.pk]), follow=True)

    assert not Absence.objects.exists()
    assert "L&#x27;absence est supprimée." in response.content.decode()


def test_deleting_is_a_post_and_needs_the_csrf_token(world: World) -> None:
    absence = Absence.objects.create(utilisateur=world.bob, debut=WED, fin=WED)
    delete = reverse("core:absence_delete", args=[absence.pk])

    assert client_for(world.bob).get(delete).status_code == 405
    guarded = client_for(world.bob, enforce_csrf_checks=True)
    assert guarded.post(delete).status_code == 403
    assert guarded.post(URL, {"debut": "2027-03-08", "fin": "2027-03-08"}).status_code == 403
    assert Absence.objects.count() == 1


def test_signed_out_users_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and "next=" in response["Location"]
