"""Benchmark: the set-based deadline engine against the old per-task loop.

    .venv/bin/python bench/deadlines.py [--tasks 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_a .venv/bin/python bench/deadlines.py

Runs in a throwaway SQLite file (or in the PostgreSQL database named by
DATABASE_URL, whose name must contain "bench": its tables are emptied), never in
var/db.sqlite3. Both ways must create exactly the same alerts; the table shows
tasks, alerts created, SQL queries, seconds and the speed ratio.

The policy mix: a third of the projects on the default ladder (2 and 1 days
before), a third on 7, 3 and 1 days with late alerts every 3 days, a third with no
advance alert and nothing to the lead; the French calendar, on the eve of
Christmas (Friday 25 December 2026 and the weekend are non-working: their alerts
come today); one member in seven away, one task in five snoozed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup_django

TODAY = datetime.date(2026, 12, 24)  # a Thursday before a bank-holiday Friday
PROJECTS = 50
MEMBERS_PER_PROJECT = 5
POLICIES: list[dict[str, object]] = [
    {},
    {"alerte_jours": "7,3,1", "retard_repetition_jours": 3},
    {"alerte_jours": "", "alerte_chef_aujourdhui": False, "alerte_chef_retard": False},
]


def build_world(tasks: int) -> None:
    """``tasks`` open tasks due from J-20 to J+30, spread over 50 active projects;
    one member in seven away today, one task in five with its advance alerts
    snoozed until today."""
    from core.models import Absence, MembreProjet, NotificationTache, Projet, Tache, User

    for model in (NotificationTache, Absence, Tache, MembreProjet, Projet, User):
        model.objects.all().delete()
    users = User.objects.bulk_create(
        User(username=f"u{i}", password="!") for i in range(PROJECTS * (MEMBERS_PER_PROJECT + 1))
    )
    leads, members = users[:PROJECTS], users[PROJECTS:]
    projets = Projet.objects.bulk_create(
        Projet(nom=f"Projet {i}", code=f"p{i}", chef_de_projet=leads[i], **POLICIES[i % 3])
        for i in range(PROJECTS)
    )
    team = {
        p.pk: members[i * MEMBERS_PER_PROJECT : (i + 1) * MEMBERS_PER_PROJECT]
        for i, p in enumerate(projets)
    }
    MembreProjet.objects.bulk_create(
        MembreProjet(projet=p, utilisateur=u, date_debut=datetime.date(2020, 1, 1))
        for p in projets
        for u in team[p.pk]
    )
    Absence.objects.bulk_create(
        Absence(utilisateur=u, debut=TODAY, fin=TODAY + datetime.timedelta(days=i % 3))
        for i, u in enumerate(members)
        if i % 7 == 0
    )
    Tache.objects.bulk_create(
        (
            Tache(
                projet=projets[i % PROJECTS],
                nom=f"Tâche {i}",
                responsable=team[projets[i % PROJECTS].pk][i % MEMBERS_PER_PROJECT],
                date_echeance=TODAY + datetime.timedelta(days=i % 51 - 20),
                report_alertes_jusqu_au=TODAY if i % 5 == 0 else None,
            )
            for i in range(tasks)
        ),
        batch_size=2000,
    )
    refresh_statistics()


def refresh_statistics() -> None:
    """What autovacuum does in production: without it, PostgreSQL plans the scan
    for an empty table and walks the index once per project."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def naive_loop(today: datetime.date) -> int:
    """The Task Scheduler era: per task, per recipient, check then insert (with
    each task's project policy, the calendar, the absences and snoozes the engine
    follows, asked per task too)."""
    from core.models import Absence, MembreProjet, NotificationDefaults, NotificationTache, Tache
    from core.services.alert_rules import POLICY_FIELDS, Days, alert_policy, rule_today
    from core.working_days import working_calendar

    defaults = NotificationDefaults.current()
    calendar = working_calendar(
        today - datetime.timedelta(days=60), today + datetime.timedelta(days=90)
    )
    days = Days(today, calendar, late_in_working_days=defaults.retard_en_jours_ouvres)
    if not calendar.is_working(today):
        return 0
    created = 0
    open_tasks = Tache.objects.alerting().select_related("projet", "responsable")
    for tache in open_tasks:
        if tache.date_echeance is None:
            continue
        key = tuple(getattr(tache.projet, name) for name in POLICY_FIELDS)
        rule = rule_today(tache.date_echeance, alert_policy(key, defaults), days)  # type: ignore[arg-type]
        if rule is None:
            continue
        kind, to_lead, shown = rule
        days_left = shown if tache.date_echeance >= today else -shown
        lead_id, owner_id = tache.projet.chef_de_projet_id, tache.responsable_id
        until = tache.report_alertes_jusqu_au
        snoozed = kind == "ALERTE_ECHEANCE" and until is not None and today <= until
        owner_gets_it = (
            owner_id is not None
            and not snoozed
            and (
                owner_id == lead_id
                or MembreProjet.objects.filter(
                    projet_id=tache.projet_id, utilisateur_id=owner_id, date_fin__isnull=True
                ).exists()
            )
        )
        delegated = (
            owner_gets_it
            and owner_id != lead_id
            and Absence.objects.filter(
                utilisateur_id=owner_id, debut__lte=today, fin__gte=today
            ).exists()
        )
        recipients: dict[int, int | None] = {}  # recipient: on behalf of
        if owner_gets_it and not delegated:
            recipients[owner_id] = None
        if to_lead or delegated:
            recipients.setdefault(lead_id, owner_id if delegated else None)
        for user_id, on_behalf in recipients.items():
            if NotificationTache.objects.filter(
                tache=tache, destinataire_id=user_id, type_notification=kind, date_alerte=today
            ).exists():
                continue
            titre, message = _texts(tache, kind, days_left, on_behalf=on_behalf)
            NotificationTache.objects.create(
                tache=tache,
                destinataire_id=user_id,
                type_notification=kind,
                titre=titre,
                message=message,
                date_alerte=today,
                date_echeance=tache.date_echeance,
                delegue_pour_id=on_behalf,
            )
            created += 1
    return created


def _texts(tache, kind: str, days_left: int, *, on_behalf: int | None) -> tuple[str, str]:
    from django.utils.translation import gettext as _

    from core.services.deadlines import render_alert_text

    titre, message = render_alert_text(
        kind,
        task_name=tache.nom,
        project_name=tache.projet.nom,
        date_echeance=tache.date_echeance,
        days_left=days_left,
    )
    if on_behalf is not None:
        owner = str(tache.responsable)
        message += " " + _("You receive it in the absence of %(owner)s, the task's owner.") % {
            "owner": owner
        }
    return titre, message


def measure(run: Callable[[], int]) -> tuple[int, int, float]:
    """(alerts created, SQL statements sent, seconds) of one run."""
    from django.db import connection

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        created = run()
        elapsed = time.perf_counter() - started
    return created, statements, elapsed


def alert_keys() -> set[tuple[int, int, str, int | None]]:
    from core.models import NotificationTache

    return set(
        NotificationTache.objects.values_list(
            "tache_id", "destinataire_id", "type_notification", "delegue_pour_id"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs (median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deadlines-") as workdir:
        setup_django(Path(workdir))
        from django.db import connection

        from core.models import NotificationTache
        from core.services.deadlines import create_deadline_alerts

        build_world(args.tasks)

        def engine() -> int:
            return create_deadline_alerts(today=TODAY).total_created

        # Warm-up (not timed): imports, the French catalogue, query compilation,
        # which the per-task loop amortises over its thousands of iterations.
        create_deadline_alerts(today=TODAY, dry_run=True)
        runs = []
        for _ in range(args.repeat):
            NotificationTache.objects.all().delete()
            runs.append(measure(engine))
        median = sorted(runs, key=lambda run: run[2])[len(runs) // 2]
        rows = [(f"set-based engine (median of {args.repeat})", *median)]
        engine_keys = alert_keys()
        rows.append(("set-based engine, rerun", *measure(engine)))
        NotificationTache.objects.all().delete()
        rows.append(("per-task loop", *measure(lambda: naive_loop(TODAY))))
        if alert_keys() != engine_keys:
            sys.exit("The two ways created different alerts: the benchmark is void.")
        print_table(rows, tasks=args.tasks, vendor=connection.vendor)


def print_table(rows: list[tuple[str, int, int, float]], *, tasks: int, vendor: str) -> None:
    engine_seconds = rows[0][3]
    print(f"\nDeadline check, {tasks} open tasks, database: {vendor}\n")
    print(f"{'way':<36}{'tasks':>8}{'alerts':>9}{'queries':>10}{'seconds':>10}{'ratio':>9}")
    for name, created, queries, seconds in rows:
        ratio = seconds / engine_seconds
        print(f"{name:<36}{tasks:>8}{created:>9}{queries:>10}{seconds:>10.3f}{ratio:>8.1f}x")


if __name__ == "__main__":
    main()
