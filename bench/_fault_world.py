"""The organisation of bench/faults.py, its reference morning, and the verdict.

A department of 46 project leads (one active project each, a few finished,
suspended or archived ones besides), four members per project plus one shared
with a neighbour, 6,000 tasks due from 20 days ago to 30 days ahead in
every status, some without owner or due date; a member who left a project
still owning tasks there; users who opted out of alert or summary emails or have
no address; yesterday's alerts already in the notification centre. Days are
relative to the real today (Europe/Paris). Runs inside the bench process's
Django (``setup_django`` first).
"""

from __future__ import annotations

import datetime
import random
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
LEADS = 46
MEMBERS_PER_PROJECT = 4
# Besides one active project per lead: no alert, no summary line.
INACTIVE_STATUTS = ("TERMINE", "SUSPENDU", "ARCHIVE", "TERMINE")
DUE_RANGE = (-20, 30)
DOMAIN = "dsi.example.fr"
# Ids (within their list) of users with a particular preference or situation.
LEAD_NO_SUMMARY, LEAD_NO_ADDRESS = 7, 11
MEMBERS_NO_ALERTS = (3, 40, 77, 110, 150)
MEMBERS_NO_ADDRESS = (20, 90)

AlertKey = tuple[int, str, str, datetime.date]


def build_world(*, today: datetime.date, tasks_per_project: int, seed: int) -> dict[str, int]:
    """Create the organisation (an empty, migrated database); return its size."""
    from core.models import Projet, Tache
    from core.services.deadlines import create_deadline_alerts

    rng = random.Random(seed)
    leads, members = _users()
    projets = _projects(leads, today=today)
    teams = _memberships(projets, members, today=today)
    Tache.objects.bulk_create(
        (
            _task(rng, projet, teams[projet.pk], today=today, index=i)
            for projet in projets
            for i in range(tasks_per_project)
        ),
        batch_size=2000,
    )
    # Yesterday's alerts, in the notification centre: history, never emailed today.
    create_deadline_alerts(today=today - datetime.timedelta(days=1))
    _yesterdays_check(today=today)
    _analyze()
    return {
        "users": len(leads) + len(members),
        "projects": len(projets),
        "tasks": Tache.objects.count(),
        "active projects": Projet.objects.active().count(),
    }


def _users() -> tuple[list[Any], list[Any]]:
    from core.models import User

    def user(name: str, **extra: Any) -> Any:
        return User(username=name, email=f"{name}@{DOMAIN}", password="!", **extra)

    leads = [user(f"chef{i:02d}") for i in range(LEADS)]
    leads[LEAD_NO_SUMMARY].email_summary = False
    leads[LEAD_NO_ADDRESS].email = ""
    members = [user(f"membre{i:03d}") for i in range(LEADS * MEMBERS_PER_PROJECT)]
    for i in MEMBERS_NO_ALERTS:
        members[i].email_alerts = False
    for i in MEMBERS_NO_ADDRESS:
        members[i].email = ""
    return User.objects.bulk_create(leads), User.objects.bulk_create(members)


def _projects(leads: list[Any], *, today: datetime.date) -> list[Any]:
    from core.models import Projet

    S = Projet.Statut
    statuts = [S.PLANIFIE if i % 6 == 5 else S.EN_COURS for i in range(LEADS)]
    statuts += INACTIVE_STATUTS
    return Projet.objects.bulk_create(
        Projet(
            nom=f"Projet {i:02d}",
            code=f"projet-{i:02d}",
            chef_de_projet=leads[i % LEADS],
            statut=statut,
            date_debut=today - datetime.timedelta(days=90),
        )
        for i, statut in enumerate(statuts)
    )


def _memberships(
    projets: list[Any], members: list[Any], *, today: datetime.date
) -> dict[int, list[Any]]:
    """Four members per project and a neighbour's; on every tenth project the first
    member left ten days ago (still owning tasks: they get no alert)."""
    from core.models import MembreProjet

    teams: dict[int, list[Any]] = {}
    rows = []
    for i, projet in enumerate(projets):
        first = (i % LEADS) * MEMBERS_PER_PROJECT
        team = members[first : first + MEMBERS_PER_PROJECT]
        team.append(members[(first + 7) % len(members)])
        teams[projet.pk] = [projet.chef_de_projet, *team, None]  # None: no owner
        for position, user in enumerate(team):
            left = today - datetime.timedelta(days=10) if position == 0 and i % 10 == 0 else None
            rows.append(
                MembreProjet(
                    projet=projet, utilisateur=user, date_debut=projet.date_debut, date_fin=left
                )
            )
    MembreProjet.objects.bulk_create(rows)
    return teams


def _task(
    rng: random.Random, projet: Any, team: list[Any], *, today: datetime.date, index: int
) -> Any:
    from core.models import Tache

    T = Tache.Statut
    statut = rng.choices(
        [T.A_FAIRE, T.EN_COURS, T.BLOQUEE, T.EN_PAUSE, T.TERMINEE, T.ANNULEE],
        weights=[35, 30, 8, 5, 17, 5],
    )[0]
    due = None if rng.random() < 0.03 else today + datetime.timedelta(rng.randint(*DUE_RANGE))
    return Tache(
        projet=projet,
        nom=f"Tâche {index} du {projet.nom}",
        responsable=rng.choices(team, weights=[1] + [2] * (len(team) - 2) + [1])[0],
        statut=statut,
        date_echeance=due,
    )


def _yesterdays_check(*, today: datetime.date) -> None:
    """Yesterday's run of the check, 24 hours before "08:00" (health's daily check
    is green on a normal morning)."""
    from django.utils import timezone

    from core.jobs import registry
    from core.models import JobRun

    started = timezone.now() - datetime.timedelta(days=1)
    JobRun.objects.create(
        job=registry.CHECK_TASK_DEADLINES.key,
        business_date=today - datetime.timedelta(days=1),
        status=JobRun.Status.SUCCESS,
        started_at=started,
        finished_at=started + datetime.timedelta(minutes=1),
    )


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- The beat rows ------------------------------------------------------------------


def plan_daily_jobs(at: datetime.datetime | None) -> None:
    """Plan the check and the summary at ``at``'s minute (beat fires them now),
    or at 23:59 (not yet due: a starting worker has nothing to catch up)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from core.jobs import registry

    local = at.astimezone(PARIS) if at else datetime.datetime(2000, 1, 1, 23, 59, tzinfo=PARIS)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(local.minute),
        hour=str(local.hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=PARIS,
    )
    names = [job.beat_name for job in registry.daily_jobs()]
    PeriodicTask.objects.filter(name__in=names).update(crontab=crontab, enabled=True)


# --- Reference and verdict ----------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What one clean morning produces, as the services produce it."""

    alerts: Counter[AlertKey]
    alerts_today: int
    alert_recipients: frozenset[str]
    summary_recipients: frozenset[str]


def take_reference(*, today: datetime.date) -> Reference:
    """Run the morning's services once, in this process, and read what they wrote."""
    from core.models import OutboundEmail
    from core.services.daily_check import run_deadline_check
    from core.services.summary import send_daily_summary

    run_deadline_check(today=today)
    send_daily_summary(today=today)
    rows = list(OutboundEmail.objects.values_list("kind", "to_address"))
    by_kind = {kind: [to for k, to in rows if k == kind] for kind in ("ALERTS", "SUMMARY")}
    for kind, recipients in by_kind.items():
        if len(recipients) != len(set(recipients)):
            raise SystemExit(f"The reference morning queued two {kind} emails to one person.")
    alerts = Counter(alert_keys())
    return Reference(
        alerts=alerts,
        alerts_today=sum(n for key, n in alerts.items() if key[3] == today),
        alert_recipients=frozenset(by_kind["ALERTS"]),
        summary_recipients=frozenset(by_kind["SUMMARY"]),
    )


def alert_keys() -> list[AlertKey]:
    from core.models import NotificationTache

    return list(
        NotificationTache.objects.values_list(
            "tache_id", "destinataire__username", "type_notification", "date_alerte"
        )
    )


@dataclass
class Verdict:
    alerts_today: int = 0
    alerts_missing: int = 0
    alerts_extra: int = 0
    alert_duplicates: int = 0
    alert_emails_once: int = 0
    alert_emails_expected: int = 0
    alert_emails_extra: int = 0
    summaries_once: int = 0
    summaries_expected: int = 0
    summaries_extra: int = 0
    failed_emails: int = 0
    smtp_duplicates: int = 0
    worst_connection_duplicates: int = 0
    duplicates_allowed: bool = False
    done_by: dict[str, list[str]] = field(default_factory=dict)
    complete: bool = False

    @property
    def exact(self) -> bool:
        wrong = self.alerts_missing + self.alerts_extra + self.alert_duplicates
        wrong += self.alert_emails_extra + self.summaries_extra + self.failed_emails
        wrong += self.alert_emails_expected - self.alert_emails_once
        wrong += self.summaries_expected - self.summaries_once
        if self.duplicates_allowed:
            wrong += max(self.worst_connection_duplicates - 1, 0)
        else:
            wrong += self.smtp_duplicates
        return self.complete and wrong == 0


OUTBOX_ID = re.compile(r"<outbox\.(\d+)\.")


def judge(
    reference: Reference,
    received: list[tuple[str, str, int]],
    *,
    today: datetime.date,
    complete: bool,
    duplicates_allowed: bool = False,
) -> Verdict:
    """Compare the database and the SMTP server's log with the reference, key by key.

    An email is one (Message-ID, recipient): received again, it is an SMTP
    duplicate, counted apart (charged to the connection that took it before);
    the "once" columns count distinct emails."""
    from core.models import JobRun, OutboundEmail

    alerts = Counter(alert_keys())
    got = {"ALERTS": Counter[str](), "SUMMARY": Counter[str]()}
    kinds = dict(OutboundEmail.objects.values_list("id", "kind"))
    last_connection: dict[tuple[str, str], int] = {}
    duplicates_of = Counter[int]()  # connection -> its emails received again later
    for message_id, recipient, connection in received:
        key = (message_id, recipient)
        seen = key in last_connection
        if seen:
            duplicates_of[last_connection[key]] += 1
        last_connection[key] = connection
        if seen:
            continue
        match = OUTBOX_ID.search(message_id)
        kind = kinds.get(int(match.group(1))) if match else None
        got.setdefault(kind or "unknown", Counter())[recipient] += 1
    alert_once, alert_extra = _once(got["ALERTS"], reference.alert_recipients)
    alert_extra += sum(sum(c.values()) for k, c in got.items() if k not in ("ALERTS", "SUMMARY"))
    summary_once, summary_extra = _once(got["SUMMARY"], reference.summary_recipients)
    runs = JobRun.objects.filter(business_date=today, status="SUCCESS").order_by("started_at")
    done_by: dict[str, list[str]] = {}
    for job, trigger in runs.values_list("job", "trigger"):
        done_by.setdefault(job, []).append(trigger)
    return Verdict(
        alerts_today=sum(n for key, n in alerts.items() if key[3] == today),
        alerts_missing=sum((reference.alerts - alerts).values()),
        alerts_extra=sum((alerts - reference.alerts).values()),
        alert_duplicates=sum(n - 1 for n in alerts.values()),
        alert_emails_once=alert_once,
        alert_emails_expected=len(reference.alert_recipients),
        alert_emails_extra=alert_extra,
        summaries_once=summary_once,
        summaries_expected=len(reference.summary_recipients),
        summaries_extra=summary_extra,
        failed_emails=OutboundEmail.objects.filter(status="FAILED").count(),
        smtp_duplicates=sum(duplicates_of.values()),
        worst_connection_duplicates=max(duplicates_of.values(), default=0),
        duplicates_allowed=duplicates_allowed,
        done_by=done_by,
        complete=complete,
    )


def _once(received: Counter[str], expected: frozenset[str]) -> tuple[int, int]:
    """(expected recipients who got exactly one, messages beyond one each)."""
    once = sum(1 for r in expected if received[r] == 1)
    extra = sum(n - 1 if r in expected else n for r, n in received.items())
    return once, extra
