"""The calendar subscription: a private address per user, shown once, replaced or
revoked from the preferences page; the feed parses as iCalendar and lists the
due dates the user follows, in a fixed number of queries."""

from __future__ import annotations

import datetime
import hashlib
import logging
import re

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from core.access_log import redact_url
from core.models import FluxCalendrier, MembreProjet, Projet, Tache
from core.selectors import calendar_feeds as calendar_selectors
from core.services import calendar_feeds
from core.views import calendar_feed as feed_view
from tests.conftest import TODAY, World
from tests.factories import EtapeFactory, ProjetFactory, TacheFactory, UserFactory
from tests.web.conftest import client_for

SITE = "https://gouvernance.example.org"
ADDRESS = re.compile(r'id="feed-url" readonly value="([^"]+)"')
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.SITE_URL = SITE


def feed_path(user) -> str:
    return reverse("core:calendar_feed", args=[calendar_feeds.regenerate_feed(user=user).value])


def read_feed(path: str) -> icalendar.Calendar:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def test_the_owner_reads_their_open_tasks_as_all_day_events(world: World):
    tache = TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=day(3)
    )
    TacheFactory(projet=world.projet, responsable=world.bob, statut=Tache.Statut.TERMINEE)
    TacheFactory(projet=world.projet, responsable=world.charlie, date_echeance=day(1))
    EtapeFactory(projet=world.projet, nom="Conception", date_fin_prevue=day(5))

    calendar = read_feed(feed_path(world.bob))

    assert calendar["VERSION"] == "2.0" and calendar["METHOD"] == "PUBLISH"
    assert "SI-Gouvernance" in str(calendar["PRODID"])
    assert calendar["X-WR-CALNAME"] == "SI-Gouvernance – échéances de Bob Durand"
    assert calendar["REFRESH-INTERVAL"].dt == datetime.timedelta(hours=1)
    [(uid, event)] = events(calendar).items()
    assert uid == f"tache-{tache.pk}@gouvernance.example.org"
    assert event["SUMMARY"] == "Échéance\u00a0: Recette (Refonte du portail)"
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert type(start) is datetime.date and start == day(3) and end == day(4)
    link = f"{SITE}/taches/{tache.pk}/"
    assert event["URL"] == link and link in event["DESCRIPTION"]
    assert "Responsable\u00a0: Bob Durand" in event["DESCRIPTION"]
    assert event["TRANSP"] == "TRANSPARENT" and "DTSTAMP" in event
    assert event["LAST-MODIFIED"].dt == tache.date_modification


def test_a_lead_reads_their_projects_tasks_and_phase_ends(world: World):
    theirs = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(2))
    nobodys = TacheFactory(projet=world.projet, responsable=None, date_echeance=day(-10))
    etape = EtapeFactory(projet=world.projet, nom="Recette", date_fin_prevue=day(20))
    EtapeFactory(projet=world.projet, date_fin_prevue=None)
    cancelled = TacheFactory(projet=world.projet, statut=Tache.Statut.ANNULEE, date_echeance=day(2))
    suspended = ProjetFactory(chef_de_projet=world.alice, statut=Projet.Statut.SUSPENDU)
    TacheFactory(projet=suspended, date_echeance=day(2))
    EtapeFactory(projet=suspended, date_fin_prevue=day(2))
    elsewhere = TacheFactory(date_echeance=day(2))  # a project alice does not lead

    found = events(read_feed(feed_path(world.alice)))

    host = "gouvernance.example.org"
    assert set(found) == {
        f"tache-{theirs.pk}@{host}",
        f"tache-{nobodys.pk}@{host}",
        f"etape-{etape.pk}@{host}",
    }
    phase = found[f"etape-{etape.pk}@{host}"]
    assert phase["SUMMARY"] == "Fin d'étape\u00a0: Recette (Refonte du portail)"
    assert phase["DTSTART"].dt == day(20) and phase["URL"] == f"{SITE}/projets/{world.projet.pk}/"
    assert f"tache-{cancelled.pk}@{host}" not in found
    assert f"tache-{elsewhere.pk}@{host}" not in found


def test_a_task_both_owned_and_led_comes_once_and_the_feed_stops_at_its_cap(
    world: World, monkeypatch
):
    monkeypatch.setattr(calendar_selectors, "MAX_TASKS", 3)
    own = TacheFactory(projet=world.projet, responsable=world.alice, date_echeance=day(1))
    for n in range(2, 6):
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(n))

    calendar = read_feed(feed_path(world.alice))

    found = list(calendar.walk("VEVENT"))
    assert [event["DTSTART"].dt for event in found] == [day(1), day(2), day(3)]
    assert str(found[0]["UID"]).startswith(f"tache-{own.pk}@")


def test_nobody_reads_the_tasks_of_a_project_they_left_or_never_joined(world: World):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(2))
    charlie_path = feed_path(world.charlie)
    bob_path = feed_path(world.bob)
    assert events(read_feed(charlie_path)) == {}
    MembreProjet.objects.filter(utilisateur=world.bob).update(date_fin=day(-1))
    assert events(read_feed(bob_path)) == {}


def test_the_window_runs_from_three_months_ago_to_a_year_ahead(world: World):
    inside = [day(-90), day(0), day(365)]
    for due in [day(-91), *inside, day(366), None]:
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=due)

    found = events(read_feed(feed_path(world.bob)))

    assert sorted(event["DTSTART"].dt for event in found.values()) == inside


def test_the_feed_follows_a_changed_due_date_and_a_closed_task(world: World):
    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(3))
    path = feed_path(world.bob)
    [event] = events(read_feed(path)).values()
    assert event["DTSTART"].dt == day(3)

    tache.date_echeance = day(8)
    tache.save()
    [event] = events(read_feed(path)).values()
    assert event["DTSTART"].dt == day(8) and event["DTEND"].dt == day(9)

    tache.statut = Tache.Statut.TERMINEE
    tache.save()
    assert events(read_feed(path)) == {}


def test_a_regenerated_address_replaces_the_old_one(world: World):
    old = feed_path(world.bob)
    new = feed_path(world.bob)
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert FluxCalendrier.objects.count() == 1


def test_a_revoked_address_answers_404(world: World):
    path = feed_path(world.bob)
    assert calendar_feeds.revoke_feed(user=world.bob)
    assert Client().get(path).status_code == 404
    assert not calendar_feeds.revoke_feed(user=world.bob)


def test_a_deactivated_account_and_an_unknown_address_answer_404(world: World):
    path = feed_path(world.bob)
    world.bob.is_active = False
    world.bob.save()
    assert Client().get(path).status_code == 404
    assert Client().get("/calendrier/nimporte-quoi.ics").status_code == 404


def test_the_address_is_stored_as_its_sha256_only(world: World):
    secret = calendar_feeds.regenerate_feed(user=world.bob)
    feed = FluxCalendrier.objects.get()
    assert feed.empreinte == hashlib.sha256(secret.value.encode()).hexdigest()
    assert secret.value not in str(list(FluxCalendrier.objects.values()))
    assert len(secret.value) >= 43 and feed.prefixe == secret.value[:8]


def test_the_secret_never_reaches_the_logs(world: World, caplog):
    path = feed_path(world.bob)
    calendar_feeds.revoke_feed(user=world.bob)
    secret = path.removeprefix("/calendrier/").removesuffix(".ics")

    with caplog.at_level(logging.INFO):
        assert Client().get(path).status_code == 404

    assert "Not Found: /calendrier/[redacted]" in caplog.text
    assert secret not in caplog.text
    assert redact_url(f"{path}?x=1") == "/calendrier/[redacted]?x=1"


def test_a_client_reading_in_a_loop_is_cut(world: World, monkeypatch):
    monkeypatch.setattr(feed_view, "READS_PER_HOUR", 3)
    path = feed_path(world.bob)
    for _ in range(3):
        assert Client().get(path).status_code == 200
    refused = Client().get(path)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


@pytest.mark.parametrize("n", [10, 100])
def test_the_feed_takes_a_fixed_number_of_queries(world: World, n, django_assert_num_queries):
    other = ProjetFactory(chef_de_projet=world.alice)
    Tache.objects.bulk_create(
        Tache(projet=projet, responsable=world.bob, nom=f"T{i}", date_echeance=day(i % 300))
        for i in range(n)
        for projet in (world.projet, other)
    )
    for i in range(n):
        EtapeFactory(projet=other, ordre=i + 1, date_fin_prevue=day(i))
    path = feed_path(world.alice)

    # The feed and its owner, its last-used date, the tasks owned, led, the phases.
    with django_assert_num_queries(5):
        calendar = read_feed(path)

    assert len(events(calendar)) == 3 * n


def test_the_preferences_page_shows_the_address_once(world: World):
    browser = client_for(world.bob)
    page = browser.get("/preferences/").content.decode()
    assert 'id="calendar-feed"' in page and "Vous n'avez pas d'adresse de calendrier" in page
    assert "Thunderbird" in page and "Google Agenda" in page

    created = browser.post(reverse("core:calendar_feed_regenerate"))
    assert created.status_code == 200
    page = created.content.decode()
    address = ADDRESS.search(page).group(1)
    assert address.startswith(f"{SITE}/calendrier/") and address.endswith(".ics")
    assert "Copiez-la maintenant" in page and 'data-copy-from="feed-url"' in page
    assert Client().get(address.removeprefix(SITE)).status_code == 200

    reloaded = browser.get("/preferences/").content.decode()
    feed = FluxCalendrier.objects.get(utilisateur=world.bob)
    assert address not in reloaded and f"/calendrier/{feed.prefixe}…" in reloaded
    assert "Dernière lecture par un agenda" in reloaded

    revoked = browser.post(reverse("core:calendar_feed_revoke"), follow=True)
    assert "Votre adresse de calendrier est révoquée" in revoked.content.decode()
    assert Client().get(address.removeprefix(SITE)).status_code == 404


@pytest.mark.parametrize("name", ["core:calendar_feed_regenerate", "core:calendar_feed_revoke"])
def test_the_actions_are_signed_in_posts_with_csrf(world: World, name):
    calendar_feeds.regenerate_feed(user=world.bob)
    before = FluxCalendrier.objects.get().empreinte
    url = reverse(name)
    assert client_for(world.bob).get(url).status_code == 405
    assert Client().post(url).status_code == 302  # to the sign-in page
    assert client_for(world.bob, enforce_csrf_checks=True).post(url).status_code == 403
    assert FluxCalendrier.objects.get().empreinte == before


def test_a_new_user_regenerating_twice_at_once_keeps_one_feed(db):
    user = UserFactory()
    first = calendar_feeds.regenerate_feed(user=user)
    second = calendar_feeds.regenerate_feed(user=user)
    assert FluxCalendrier.objects.get().empreinte == second.fingerprint != first.fingerprint
