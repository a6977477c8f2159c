"""Escalation: a task late beyond its project's limit reaches the portfolio managers
(the group the administrators named) once a week, never every day."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import NotificationDefaults, NotificationTache, OutboundEmail, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from core.services.summary import send_daily_summary
from tests.conftest import World
from tests.factories import ProjetFactory, TacheFactory, UserFactory

ESCALADE = "ESCALADE"
D = datetime.date
DAY = datetime.timedelta(days=1)


def managers(*names: str) -> Group:
    group = Group.objects.create(name="Portefeuille DSI")
    for name in names:
        UserFactory(username=name).groups.add(group)
    NotificationDefaults.objects.create(escalade_groupe=group)
    return group


def escalated_days(first: D, last: D, user: str = "dsi") -> list[D]:
    day = first
    while day <= last:
        create_deadline_alerts(today=day)
        day += DAY
    return list(
        NotificationTache.objects.filter(
            type_notification=ESCALADE, destinataire__username=user
        ).values_list("date_alerte", flat=True)
    )


def test_a_task_late_beyond_five_working_days_is_escalated_once_a_week(world: World):
    managers("dsi")
    # Due Friday 8 January 2027: 5 working days late on Friday 15, 6 on Monday 18.
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 8))

    days = escalated_days(D(2027, 1, 8), D(2027, 2, 5))

    assert sorted(days) == [D(2027, 1, 18), D(2027, 1, 25), D(2027, 2, 1)]
    alert = NotificationTache.objects.get(type_notification=ESCALADE, date_alerte=D(2027, 1, 18))
    assert alert.titre == "Escalade\u00a0: Lot, 6 jours ouvrés de retard"
    assert "Refonte du portail" in alert.message and "au-delà de la limite de 5" in alert.message
    # The owner and the lead keep their own late alerts; the escalation is for the DSI only.
    assert set(
        NotificationTache.objects.filter(type_notification=ESCALADE).values_list(
            "destinataire__username", flat=True
        )
    ) == {"dsi"}


def test_each_project_may_set_its_own_limit(world: World):
    managers("dsi")
    Projet.objects.filter(pk=world.projet.pk).update(escalade_jours_ouvres=2)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 8))

    days = escalated_days(D(2027, 1, 8), D(2027, 1, 20))

    assert sorted(days) == [D(2027, 1, 13), D(2027, 1, 20)]  # 3 working days late, then +5


def test_every_active_manager_gets_it_and_nobody_without_a_group(world: World):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 8))
    assert escalated_days(D(2027, 1, 18), D(2027, 1, 18)) == []  # no group named yet

    group = managers("dsi", "rssi")
    UserFactory(username="parti", is_active=False).groups.add(group)
    NotificationTache.objects.all().delete()
    create_deadline_alerts(today=D(2027, 1, 18))

    assert set(
        NotificationTache.objects.filter(type_notification=ESCALADE).values_list(
            "destinataire__username", flat=True
        )
    ) == {"dsi", "rssi"}


def test_a_done_task_or_an_inactive_project_is_not_escalated(world: World):
    managers("dsi")
    TacheFactory(
        projet=world.projet,
        responsable=world.bob,
        date_echeance=D(2027, 1, 8),
        statut=Tache.Statut.TERMINEE,
    )
    paused = ProjetFactory(code="pause", chef_de_projet=world.alice, statut=Projet.Statut.SUSPENDU)
    TacheFactory(projet=paused, responsable=world.alice, date_echeance=D(2027, 1, 8))

    assert escalated_days(D(2027, 1, 18), D(2027, 1, 18)) == []


def test_a_rerun_a_dry_run_and_the_counts_agree(world: World):
    managers("dsi", "rssi")
    for _ in range(3):
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 8))

    dry = create_deadline_alerts(today=D(2027, 1, 18), dry_run=True)
    first = create_deadline_alerts(today=D(2027, 1, 18))
    again = create_deadline_alerts(today=D(2027, 1, 18))

    assert dry.created[ESCALADE] == first.created[ESCALADE] == 6
    assert again.created[ESCALADE] == 0
    assert NotificationTache.objects.filter(type_notification=ESCALADE).count() == 6


def test_the_escalation_costs_the_same_queries_for_few_or_many_tasks(world: World):
    managers("dsi")

    def queries(tasks: int) -> int:
        Tache.objects.bulk_create(
            Tache(
                projet=world.projet,
                nom=f"T{i}",
                responsable=world.bob,
                date_echeance=D(2027, 1, 8) - DAY * (i % 40),
            )
            for i in range(tasks)
        )
        NotificationTache.objects.all().delete()
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            create_deadline_alerts(today=D(2027, 1, 18))
        return len(ctx.captured_queries)

    small = queries(40)
    large = queries(2000)
    assert NotificationTache.objects.filter(type_notification=ESCALADE).count() > 0
    assert small == large


def test_the_managers_summary_has_an_escalations_section(world: World):
    managers("dsi")
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 8))
    monday = D(2027, 1, 18)
    create_deadline_alerts(today=monday)

    result = send_daily_summary(today=monday)

    emails = {
        e.to_address: e for e in OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SUMMARY)
    }
    assert result.queued == 2  # alice (the lead) and the manager, who leads nothing
    manager = emails["dsi@dsi.example.org"]
    assert "Escalades\u00a0: 1 tâche en retard au-delà de sa limite" in manager.body_text
    assert "Escalade\u00a0: Lot, 6 jours ouvrés de retard (Refonte du portail)" in manager.body_text
    assert "Escalades" in manager.body_html and "escalades" in manager.subject
    assert "En retard\u00a0: 0" not in manager.body_text  # it leads no project
    assert "Escalades" not in emails[world.alice.email].body_text
