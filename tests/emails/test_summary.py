"""The daily summary service: content, who gets it, once per lead per day, scale."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import OutboundEmail, Projet, Tache
from core.services.summary import send_daily_summary
from tests.conftest import TODAY
from tests.emails.conftest import assert_link_resolves
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory

DAY = datetime.timedelta(days=1)


def _summary_for(user) -> OutboundEmail:
    return OutboundEmail.objects.get(recipient=user, kind=OutboundEmail.Kind.SUMMARY)


@pytest.fixture
def busy_world(world):
    """alice's project with a task in each section, plus a quiet project of hers."""
    p = world.projet
    TacheFactory(
        projet=p, nom="Migration LDAP", responsable=world.bob, date_echeance=TODAY - 3 * DAY
    )
    TacheFactory(projet=p, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    TacheFactory(
        projet=p, nom="Mise en production", responsable=None, date_echeance=TODAY + 5 * DAY
    )
    TacheFactory(projet=p, nom="Choix hébergeur", statut=Tache.Statut.BLOQUEE, date_echeance=None)
    TacheFactory(projet=p, nom="Plus tard", date_echeance=TODAY + 30 * DAY)
    TacheFactory(
        projet=p,
        nom="Cadrage",
        statut=Tache.Statut.TERMINEE,
        date_echeance=TODAY - 10 * DAY,
        date_fin_reelle=TODAY - DAY,
    )
    ProjetFactory(nom="Intranet RH", chef_de_projet=world.alice)
    return world


def test_summary_lists_each_section_with_who_and_how_late(busy_world, settings):
    result = send_daily_summary(today=TODAY)

    assert result.queued == 1
    email = _summary_for(busy_world.alice)
    assert email.to_address == "alice@dsi.example.org"
    assert "Refonte du portail" in email.subject
    text = email.body_text
    for name in ("Migration LDAP", "Recette", "Mise en production", "Choix hébergeur"):
        assert name in text and name in email.body_html
    assert "Plus tard" not in text  # beyond SUMMARY_LOOKAHEAD_DAYS
    assert "Cadrage" not in text  # done
    late_line = next(line for line in text.splitlines() if "Migration LDAP" in line)
    assert "3" in late_line and "Bob Durand" in late_line
    # Health: 5 open, 1 late, 1 done this week (Cadrage, finished yesterday).
    health = email.body_text.split("Refonte du portail ===")[1].splitlines()[1]
    assert re.findall(r"\d+", health) == ["5", "1", "1"]
    # The quiet project is mentioned after, never as a section of its own.
    assert text.index("Refonte du portail ===") < text.index("Intranet RH")
    assert "25\u00a0novembre 2026" in text  # the date in the recipient's language (French)


def test_summary_links_are_absolute_and_served_by_the_application(busy_world, settings):
    settings.SITE_URL = "https://gouvernance.dsi.example.org"
    send_daily_summary(today=TODAY)
    email = _summary_for(busy_world.alice)

    links = re.findall(r"https?://\S+", email.body_text)
    tache = Tache.objects.get(nom="Recette")
    assert f"https://gouvernance.dsi.example.org/taches/{tache.pk}/" in links
    for link in links:
        assert_link_resolves(
            link,
            site_url=settings.SITE_URL,
            view_name={
                "taches": "core:task_detail",
                "projets": "core:project_detail",
                "preferences": "core:preferences",
            }[link.split("/")[3]],
        )
    assert email.headers["Auto-Submitted"] == "auto-generated"
    assert email.headers["List-Unsubscribe"] == (
        "<https://gouvernance.dsi.example.org/preferences/>"
    )


def test_projects_ordered_by_urgency(world):
    calm = ProjetFactory(nom="AAA calme", chef_de_projet=world.alice)
    TacheFactory(projet=calm, nom="Bientôt", date_echeance=TODAY + 2 * DAY)
    TacheFactory(projet=world.projet, nom="En retard", date_echeance=TODAY - DAY)

    send_daily_summary(today=TODAY)

    text = _summary_for(world.alice).body_text
    assert text.index("=== Refonte du portail") < text.index("=== AAA calme")


def test_run_twice_queues_one_email_per_lead(busy_world):
    first = send_daily_summary(today=TODAY)
    second = send_daily_summary(today=TODAY)

    assert (first.queued, second.queued, second.already_queued) == (1, 0, 1)
    assert OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SUMMARY).count() == 1
    # The next day is another summary.
    send_daily_summary(today=TODAY + DAY)
    assert OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SUMMARY).count() == 2


def test_the_unique_key_not_a_lookup_stops_a_second_email(busy_world, monkeypatch):
    """Even when the 'already queued' read misses (a concurrent run), nothing doubles."""
    send_daily_summary(today=TODAY)
    monkeypatch.setattr(
        "core.services.summary.OutboundEmail.objects.filter",
        lambda **kwargs: OutboundEmail.objects.none(),
    )
    send_daily_summary(today=TODAY)
    monkeypatch.undo()
    assert OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SUMMARY).count() == 1


def test_lead_with_nothing_to_report_gets_nothing(world, caplog):
    TacheFactory(projet=world.projet, nom="Lointaine", date_echeance=TODAY + 60 * DAY)
    caplog.set_level(logging.INFO, logger="core.services.summary")

    result = send_daily_summary(today=TODAY)

    assert result.queued == 0
    assert not OutboundEmail.objects.exists()
    assert result.as_dict()["skipped"] == {"nothing_to_report": 1}
    assert "alice" in caplog.text and "nothing_to_report" in caplog.text


def test_lead_without_email_is_skipped_with_a_logged_reason(busy_world, caplog):
    busy_world.alice.email = ""
    busy_world.alice.save()
    caplog.set_level(logging.INFO, logger="core.services.summary")

    result = send_daily_summary(today=TODAY)

    assert result.queued == 0
    assert not OutboundEmail.objects.exists()
    assert "alice" in caplog.text and "no_email" in caplog.text


@pytest.mark.parametrize(
    ("choice", "default", "sent"),
    [(False, True, False), (None, False, False), (None, True, True), (True, False, True)],
)
def test_summary_preference_and_administrators_default(busy_world, settings, choice, default, sent):
    settings.NOTIFICATION_DEFAULT_SUMMARY_EMAILS = default
    busy_world.alice.email_summary = choice
    busy_world.alice.save()

    result = send_daily_summary(today=TODAY)

    assert OutboundEmail.objects.filter(recipient=busy_world.alice).exists() is sent
    assert result.queued == int(sent)


def test_inactive_projects_are_left_out(world):
    archived = ProjetFactory(nom="Ancien ERP", chef_de_projet=world.alice)
    TacheFactory(projet=archived, nom="Vieille tâche", date_echeance=TODAY - DAY)
    archived.statut = Projet.Statut.ARCHIVE
    archived.save()
    TacheFactory(projet=world.projet, nom="Actuelle", date_echeance=TODAY)

    send_daily_summary(today=TODAY)

    text = _summary_for(world.alice).body_text
    assert "Actuelle" in text and "Ancien ERP" not in text and "Vieille tâche" not in text


def test_only_leads_get_a_summary_and_only_of_their_projects(world):
    other = ProjetFactory(nom="Projet de Charlie", chef_de_projet=world.charlie)
    MembreProjetFactory(projet=other, utilisateur=world.bob)
    TacheFactory(projet=other, nom="Tâche de Charlie", date_echeance=TODAY)
    TacheFactory(projet=world.projet, nom="Tâche d'Alice", date_echeance=TODAY)

    send_daily_summary(today=TODAY)

    assert set(OutboundEmail.objects.values_list("recipient__username", flat=True)) == {
        "alice",
        "charlie",
    }
    alice_text = _summary_for(world.alice).body_text
    assert "Tâche d'Alice" in alice_text and "Tâche de Charlie" not in alice_text


def test_dry_run_writes_nothing(busy_world):
    result = send_daily_summary(today=TODAY, dry_run=True)
    assert result.queued == 1 and result.dry_run
    assert not OutboundEmail.objects.exists()


def _leads_with_projects(count: int, projects_each: int) -> list:
    leads = []
    for i in range(count):
        lead = UserFactory(username=f"lead{i}")
        leads.append(lead)
        for j in range(projects_each):
            projet = ProjetFactory(chef_de_projet=lead, nom=f"P{i}-{j}")
            TacheFactory(projet=projet, date_echeance=TODAY - DAY)
            TacheFactory(projet=projet, date_echeance=TODAY + DAY, statut=Tache.Statut.BLOQUEE)
    return leads


@pytest.mark.parametrize("leads", [2, 12])
def test_query_count_does_not_grow_with_leads_or_projects(db, leads):
    _leads_with_projects(leads, projects_each=3)
    with CaptureQueriesContext(connection) as queries:
        result = send_daily_summary(today=TODAY)
    assert result.queued == leads
    # the closure days (is today worked?), leads, the administrators' email
    # defaults (once, then cached), projects, task lines, health, escalations,
    # already-queued keys, one insert (+ savepoint/transaction statements on some
    # backends): not per lead.
    assert len(queries) <= 11, [q["sql"][:80] for q in queries]


def test_runs_for_part_of_the_leads_then_all_send_one_email_each(db):
    leads = _leads_with_projects(5, projects_each=1)
    send_daily_summary(today=TODAY, lead_ids=[lead.id for lead in leads[:2]])
    assert send_daily_summary(today=TODAY).already_queued == 2
    assert OutboundEmail.objects.count() == 5


def test_by_chunks_of_leads_each_lead_gets_one_email(db):
    leads = _leads_with_projects(7, projects_each=1)

    result = send_daily_summary(today=TODAY, chunk_size=2)

    assert (result.leads, result.queued) == (7, 7)
    assert sorted(OutboundEmail.objects.values_list("recipient_id", flat=True)) == sorted(
        lead.id for lead in leads
    )
    assert send_daily_summary(today=TODAY, chunk_size=3).already_queued == 7


def test_a_long_section_names_ten_tasks_and_links_to_the_project_for_the_rest(world):
    for i in range(15):
        TacheFactory(projet=world.projet, nom=f"Retard {i:02d}", date_echeance=TODAY - DAY)

    send_daily_summary(today=TODAY)

    email = _summary_for(world.alice)
    named = [line for line in email.body_text.splitlines() if line.startswith("- Retard")]
    assert len(named) == 10
    assert "En retard\u00a0: 15" in email.body_text  # the header counts them all
    assert "et 5 autres tâches" in email.body_text and "et 5 autres tâches" in email.body_html
    project_url = f"/projets/{world.projet.pk}/"
    more = email.body_text.split("et 5 autres tâches")[1].splitlines()[1]
    assert more.strip().endswith(project_url)


def test_blocked_tasks_have_their_section_with_reason_and_age_whatever_their_date(world):
    """A blocked task is listed under « Bloquées » (not under « En retard »), with
    what blocks it and since when; a slipped due date shows its last reason."""
    import time_machine

    from core.services import task_updates

    p = world.projet
    late = TacheFactory(projet=p, nom="Migration LDAP", responsable=world.bob)
    far = TacheFactory(projet=p, nom="Choix hébergeur", responsable=world.bob)
    slipped = TacheFactory(projet=p, nom="Recette", responsable=world.bob)
    five_days_ago = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(five_days_ago, tick=False) as clock:
        for tache, due in ((late, TODAY - 3 * DAY), (far, TODAY + 40 * DAY), (slipped, TODAY)):
            tache.date_echeance = due - DAY
            task_updates.save_task(tache=tache, author=world.alice, today=TODAY - 5 * DAY)
        task_updates.report_blocked(
            tache_id=late.pk, author=world.bob, reason="Annuaire inaccessible", today=TODAY
        )
        clock.move_to(five_days_ago + 5 * DAY)
        task_updates.report_blocked(
            tache_id=far.pk, author=world.bob, reason="Devis en attente", today=TODAY
        )
        slipped.date_echeance = TODAY
        task_updates.save_task(tache=slipped, author=world.alice, today=TODAY, reason="Congés")
        send_daily_summary(today=TODAY)

    text = _summary_for(world.alice).body_text
    blocked = text.split("Bloquées\n")[1]
    assert "Late" not in text and "En retard\n" not in text  # the late task is blocked
    ldap = next(line for line in blocked.splitlines() if "Migration LDAP" in line)
    assert "4 jours de retard" in ldap and "bloquée depuis 5 jours" in ldap
    assert "Motif\u00a0: Annuaire inaccessible" in blocked
    assert "bloquée depuis aujourd'hui" in blocked and "Devis en attente" in blocked
    assert text.index("Migration LDAP") < text.index("Choix hébergeur")  # most urgent first
    recette = next(line for line in text.splitlines() if "Recette" in line)
    assert "repoussée 1 fois (Congés)" in recette
    html = _summary_for(world.alice).body_html
    assert "Annuaire inaccessible" in html and "(Congés)" in html


def test_a_section_lists_its_tasks_most_urgent_first(world):
    """Late: the latest first, then the highest priority; soon: priority, then date."""
    p = world.projet
    for nom, days, priorite in (
        ("Un jour basse", -1, "BASSE"),
        ("Dix jours", -10, "NORMALE"),
        ("Un jour critique", -1, "CRITIQUE"),
        ("Dans 5 jours critique", 5, "CRITIQUE"),
        ("Dans 2 jours normale", 2, "NORMALE"),
    ):
        TacheFactory(projet=p, nom=nom, priorite=priorite, date_echeance=TODAY + days * DAY)

    send_daily_summary(today=TODAY)

    text = _summary_for(world.alice).body_text
    order = ["Dix jours", "Un jour critique", "Un jour basse", "Dans 5 jours critique"]
    order.append("Dans 2 jours normale")
    assert [text.index(nom) for nom in order] == sorted(text.index(nom) for nom in order)
