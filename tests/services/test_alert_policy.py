"""The alert policy as the people alerted live it: each project's ladder, and the
French calendar (weekends, public holidays, the DSI's closure days) under which no
alert is ever dated on a day nobody works."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from core.models import JourNonOuvre, NotificationDefaults, NotificationTache, Projet, Tache
from core.services import deadlines
from core.services.deadlines import create_deadline_alerts, project_policy
from core.services.summary import send_daily_summary
from core.working_days import working_calendar
from tests.conftest import World
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory

ECHEANCE, CRITIQUE, RETARD = "ALERTE_ECHEANCE", "ALERTE_CRITIQUE", "ALERTE_RETARD"
D = datetime.date
DAY = datetime.timedelta(days=1)


def run_each_day(first: D, last: D) -> dict[D, list[tuple[str, str, str]]]:
    """Run the engine every day from ``first`` to ``last``; what each day created,
    as (task, recipient, type)."""
    created = {}
    day = first
    while day <= last:
        create_deadline_alerts(today=day)
        created[day] = sorted(
            NotificationTache.objects.filter(date_alerte=day).values_list(
                "tache__nom", "destinataire__username", "type_notification"
            )
        )
        day += DAY
    return created


def days_with(created: dict[D, list], kind: str, user: str = "bob") -> list[D]:
    return [day for day, rows in created.items() if any(r[1:] == (user, kind) for r in rows)]


def set_policy(projet: Projet, **fields: object) -> None:
    Projet.objects.filter(pk=projet.pk).update(**fields)


# --- Working days -----------------------------------------------------------------


def test_a_task_due_on_the_tuesday_after_easter_monday_warns_on_the_friday_once(world: World):
    # Easter Monday 2027 is 29 March; the default ladder is 2 and 1 days before.
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=D(2027, 3, 30)
    )

    created = run_each_day(D(2027, 3, 24), D(2027, 4, 1))

    assert days_with(created, ECHEANCE) == [D(2027, 3, 26)]  # Friday, once for J-2 and J-1
    assert days_with(created, CRITIQUE) == [D(2027, 3, 30)]
    assert days_with(created, RETARD) == [D(2027, 3, 31), D(2027, 4, 1)]
    friday = NotificationTache.objects.get(date_alerte=D(2027, 3, 26))
    assert friday.titre == "Échéance dans 4 jours\u00a0: Recette"


def test_a_task_due_on_the_monday_after_christmas_friday_warns_on_thursday(world: World):
    # 25 December 2026 is a Friday: the last working day before Monday 28 is the 24th.
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Clôture", date_echeance=D(2026, 12, 28)
    )

    created = run_each_day(D(2026, 12, 21), D(2026, 12, 29))

    assert days_with(created, ECHEANCE) == [D(2026, 12, 24)]
    assert days_with(created, CRITIQUE) == [D(2026, 12, 28)]
    assert days_with(created, RETARD) == [D(2026, 12, 29)]
    assert all(not created[d] for d in (D(2026, 12, 25), D(2026, 12, 26), D(2026, 12, 27)))


def test_a_task_due_on_a_saturday_is_due_on_friday_and_late_on_monday(world: World):
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 16)
    )

    created = run_each_day(D(2027, 1, 13), D(2027, 1, 19))

    # Friday: J-1 and the due-day alert meet; the most urgent wins, once.
    assert created[D(2027, 1, 15)] == [("Lot", "alice", CRITIQUE), ("Lot", "bob", CRITIQUE)]
    assert days_with(created, ECHEANCE) == [D(2027, 1, 14)]  # J-2, a Thursday
    assert days_with(created, RETARD) == [D(2027, 1, 18), D(2027, 1, 19)]
    friday = NotificationTache.objects.get(date_alerte=D(2027, 1, 15), destinataire=world.bob)
    assert "jour non ouvré" in friday.titre
    monday = NotificationTache.objects.get(date_alerte=D(2027, 1, 18), destinataire=world.bob)
    assert monday.titre == "En retard de 2 jours\u00a0: Lot"


def test_days_late_can_be_counted_in_working_days(world: World):
    NotificationDefaults.objects.create(retard_en_jours_ouvres=True)
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 15)
    )

    create_deadline_alerts(today=D(2027, 1, 18))  # the Monday after a Friday

    monday = NotificationTache.objects.get(destinataire=world.bob)
    assert monday.titre == "En retard de 1 jour ouvré\u00a0: Lot"


def test_a_weekly_late_alert_falling_on_a_holiday_comes_the_next_working_day_only(world: World):
    set_policy(world.projet, retard_repetition_jours=7)
    # Due Monday 3 May 2027: a week later is... Monday 10; the week after, Monday 17 is
    # Whit Monday (lundi de Pentecôte): that alert comes on Tuesday 18.
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 5, 3))

    created = run_each_day(D(2027, 5, 4), D(2027, 5, 26))

    assert days_with(created, RETARD) == [D(2027, 5, 10), D(2027, 5, 18), D(2027, 5, 24)]
    tuesday = NotificationTache.objects.get(date_alerte=D(2027, 5, 18), destinataire=world.bob)
    assert tuesday.titre == "En retard de 15 jours\u00a0: Lot"


def test_a_closure_day_of_the_dsi_is_a_non_working_day(world: World):
    JourNonOuvre.objects.create(date=D(2027, 1, 14), libelle="Fermeture DSI")
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 15)
    )

    created = run_each_day(D(2027, 1, 12), D(2027, 1, 15))

    assert created[D(2027, 1, 14)] == []
    assert days_with(created, ECHEANCE) == [D(2027, 1, 13)]  # J-2, and J-1 moved onto it


def test_on_a_non_working_day_the_run_creates_nothing_and_says_so(world: World):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 16))
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 10))

    result = create_deadline_alerts(today=D(2027, 1, 16))

    assert (result.working_day, result.total_created) == (False, 0)
    assert result.as_dict()["working_day"] is False
    assert not NotificationTache.objects.exists()


def test_without_a_calendar_weekends_are_alerted_like_any_day(world: World):
    NotificationDefaults.objects.create(calendrier=NotificationDefaults.Calendrier.AUCUN)
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 16)
    )

    created = run_each_day(D(2027, 1, 13), D(2027, 1, 18))

    assert days_with(created, ECHEANCE) == [D(2027, 1, 14), D(2027, 1, 15)]
    assert days_with(created, CRITIQUE) == [D(2027, 1, 16)]  # the Saturday itself
    assert days_with(created, RETARD) == [D(2027, 1, 17), D(2027, 1, 18)]


def test_the_daily_summary_is_not_sent_on_a_non_working_day(world: World):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 10))

    saturday = send_daily_summary(today=D(2027, 1, 16))
    monday = send_daily_summary(today=D(2027, 1, 18))

    assert (saturday.working_day, saturday.queued) == (False, 0)
    assert saturday.as_dict()["working_day"] is False
    assert (monday.working_day, monday.queued) == (True, 1)


# --- The ladder of each project ----------------------------------------------------


def test_each_project_follows_its_own_ladder_and_lead_choices(world: World):
    quiet = ProjetFactory(nom="Calme", code="calme", chef_de_projet=world.alice)
    MembreProjetFactory(projet=quiet, utilisateur=world.bob)
    set_policy(world.projet, alerte_jours="7,3,1")
    set_policy(quiet, alerte_jours="", alerte_chef_aujourdhui=False, alerte_chef_retard=False)
    monday = D(2027, 1, 11)
    for projet, prefix in ((world.projet, "P"), (quiet, "Q")):
        for offset in (7, 3, 2, 1, 0, -7):
            due = monday + DAY * offset
            TacheFactory(
                projet=projet, responsable=world.bob, nom=f"{prefix}{offset}", date_echeance=due
            )

    create_deadline_alerts(today=monday)
    rows = set(
        NotificationTache.objects.values_list(
            "tache__nom", "destinataire__username", "type_notification"
        )
    )

    assert rows == {
        ("P7", "bob", ECHEANCE),
        ("P3", "bob", ECHEANCE),
        ("P1", "bob", ECHEANCE),  # not P2: 2 is not on this ladder
        ("P0", "bob", CRITIQUE),
        ("P0", "alice", CRITIQUE),
        ("P-7", "bob", RETARD),
        ("P-7", "alice", RETARD),
        # Calme: no advance alert, and its lead hears of nothing.
        ("Q0", "bob", CRITIQUE),
        ("Q-7", "bob", RETARD),
    }


def test_empty_project_fields_follow_the_defaults_an_administrator_saves(world: World):
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 1, 18)
    )
    assert project_policy(world.projet).days == (2, 1)  # the settings' DEADLINE_ALERT_DAYS

    NotificationDefaults.objects.create(alerte_jours="5", alerte_chef_retard=False)
    world.projet.refresh_from_db()

    assert project_policy(world.projet).days == (5,)
    assert create_deadline_alerts(today=D(2027, 1, 13)).created[ECHEANCE] == 1


def test_a_ladder_changed_mid_way_rearms_what_it_should_and_never_repeats(world: World):
    set_policy(world.projet, alerte_jours="7,3,1")
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Lot", date_echeance=D(2027, 2, 15)
    )
    run_each_day(D(2027, 2, 8), D(2027, 2, 9))  # J-7 alerted on Monday 8
    set_policy(world.projet, alerte_jours="5,2")
    create_deadline_alerts(today=D(2027, 2, 9))  # rerun of the day the ladder changed

    created = run_each_day(D(2027, 2, 9), D(2027, 2, 15))

    alerted = sorted(
        NotificationTache.objects.filter(type_notification=ECHEANCE).values_list(
            "date_alerte", flat=True
        )
    )
    # J-7 (old ladder), J-5 is Wednesday 10, J-2 Saturday 13 -> Friday 12; no J-3, J-1.
    assert alerted == [D(2027, 2, 8), D(2027, 2, 10), D(2027, 2, 12)]
    assert days_with(created, CRITIQUE) == [D(2027, 2, 15)]


@pytest.mark.parametrize(("repeat", "expected"), [(1, 7), (3, 2), (7, 1)])
def test_late_alerts_repeat_every_1_3_or_7_days(world: World, repeat: int, expected: int):
    NotificationDefaults.objects.create(calendrier=NotificationDefaults.Calendrier.AUCUN)
    set_policy(world.projet, retard_repetition_jours=repeat)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 10))

    created = run_each_day(D(2027, 1, 11), D(2027, 1, 17))  # 1 to 7 days late

    assert len(days_with(created, RETARD)) == expected


def test_a_rerun_and_a_changed_policy_create_no_duplicate(world: World):
    for offset in range(-10, 10):
        TacheFactory(
            projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 13) + DAY * offset
        )
    first = create_deadline_alerts(today=D(2027, 1, 13))
    set_policy(world.projet, alerte_chef_retard=False, alerte_jours="2,1")

    again = create_deadline_alerts(today=D(2027, 1, 13))

    assert first.total_created > 0 and again.total_created == 0


def test_many_rules_go_in_several_statements_with_the_same_result(world: World, monkeypatch):
    for offset in range(1, 30):
        TacheFactory(
            projet=world.projet, responsable=world.bob, date_echeance=D(2027, 1, 13) - DAY * offset
        )
    TacheFactory(projet=world.projet, responsable=None, date_echeance=D(2027, 1, 12))
    monkeypatch.setattr(deadlines, "RULES_PER_STATEMENT", 4)

    result = create_deadline_alerts(today=D(2027, 1, 13))

    assert result.created[RETARD] == 29 * 2 + 1  # owner and lead; the lead of the unowned one
    assert result.skipped_count == 1 and result.skipped[0].reason == "no_owner"


# --- A year under the French calendar ----------------------------------------------


def test_a_simulated_year_dates_no_alert_on_a_non_working_day(world: World):
    """Every day of 2027 a task falls due (in two projects with different ladders);
    the engine runs every morning at 06:00 by the clock, tasks close ten days after
    their due date. No alert is dated on a weekend or a French public holiday, each
    task gets its due-day alert exactly once, and its advance alerts at most once
    per step of its ladder."""
    weekly = ProjetFactory(nom="Hebdo", code="hebdo", chef_de_projet=world.alice)
    MembreProjetFactory(projet=weekly, utilisateur=world.bob)
    set_policy(world.projet, alerte_jours="7,3,1")
    set_policy(weekly, alerte_jours="10,5", retard_repetition_jours=7)
    first, last = D(2027, 1, 1), D(2027, 12, 31)
    day = first
    while day <= last:
        projet = world.projet if day.toordinal() % 2 else weekly
        TacheFactory(projet=projet, responsable=world.bob, nom=f"T{day}", date_echeance=day)
        day += DAY

    day = first - datetime.timedelta(days=14)
    while day <= last:
        moment = datetime.datetime.combine(
            day, datetime.time(6, 0), tzinfo=timezone.get_current_timezone()
        )
        with time_machine.travel(moment, tick=False):
            Tache.objects.filter(date_echeance__lt=day - datetime.timedelta(days=10)).update(
                statut=Tache.Statut.TERMINEE
            )
            create_deadline_alerts()
        day += DAY

    calendar = working_calendar(first - DAY * 14, last)
    dated = set(NotificationTache.objects.values_list("date_alerte", flat=True).distinct())
    assert dated and all(calendar.is_working(d) for d in dated)
    owner = NotificationTache.objects.filter(destinataire=world.bob)
    critical = list(owner.filter(type_notification=CRITIQUE).values_list("tache__nom", flat=True))
    assert len(critical) == len(set(critical)) == 365
    per_task: dict[str, int] = {}
    for name in owner.filter(type_notification=ECHEANCE).values_list("tache__nom", flat=True):
        per_task[name] = per_task.get(name, 0) + 1
    assert max(per_task.values()) <= 3
    late_days = owner.filter(type_notification=RETARD).values_list("date_alerte", flat=True)
    assert all(calendar.is_working(d) for d in late_days)
