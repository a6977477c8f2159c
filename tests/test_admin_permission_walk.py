"""Every admin action of every registered model, tried by staff who lack its permission.

Issue 16, finding 1: a staff user with only ``view_periodictask`` disabled (or ran)
every beat row through django-celery-beat's actions, which declare no permission.
Three staff accounts walk the whole admin: view-only (every ``view_*``),
change-only (every ``view_*`` and ``change_*``: no add, delete, run, superuser)
and one with no permission at all; nothing changes where a permission is missing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from celery.app.task import Task
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db.models import Model, Q
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_results.models import GroupResult, TaskResult

from core.jobs.beat_rows import sync_rows
from core.models import (
    Absence,
    Canal,
    HistoriqueTache,
    JobRun,
    JourNonOuvre,
    MessageCanal,
    NotificationDefaults,
    OutboundEmail,
    User,
)
from core.services.api_tokens import create_token
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY, World
from tests.factories import EtapeFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import client_for

# What a staff account may hold, by role of the walk.
ROLES = {
    "nobody": Q(pk__in=[]),
    "viewer": Q(codename__startswith="view_"),
    "editor": Q(codename__startswith="view_") | Q(codename__startswith="change_"),
}
# The actions a change-only account may run: change a row, never delete or run one.
EDITOR_MAY = {
    ("django_celery_beat.PeriodicTask", "enable_tasks"),
    ("django_celery_beat.PeriodicTask", "disable_tasks"),
    ("django_celery_beat.PeriodicTask", "toggle_tasks"),
    ("django_celery_beat.PeriodicTask", "reset_to_default"),
    ("core.OutboundEmail", "resend_emails"),
    ("core.MessageCanal", "resend_messages"),
}


def registered() -> Iterator[tuple[type[Model], ModelAdmin]]:
    for model in apps.get_models():
        if admin.site.is_registered(model):
            yield model, admin.site.get_model_admin(model)


def request_as(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def actions_of(modeladmin: ModelAdmin) -> dict[str, tuple[str, ...]]:
    """Every action the admin offers anyone (a superuser sees them all), with the
    permissions it declares."""
    root = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    return {
        name: tuple(getattr(func, "allowed_permissions", ()))
        for name, (func, _name, _description) in modeladmin.get_actions(request_as(root)).items()
    }


def holds(modeladmin: ModelAdmin, user: User, permissions: tuple[str, ...]) -> bool:
    request = request_as(User.objects.get(pk=user.pk))  # fresh permission cache
    return all(getattr(modeladmin, f"has_{name}_permission")(request) for name in permissions)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table, but the sessions the requests themselves write."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model is not Session
    }


@pytest.fixture
def populated(world: World) -> None:
    """At least one row in every table the admin shows, so every action has a target."""
    etape = EtapeFactory(projet=world.projet)
    tache = TacheFactory(
        projet=world.projet, etape=etape, responsable=world.bob, date_echeance=TODAY
    )
    HistoriqueTache.objects.create(
        tache=tache, auteur=world.bob, champ=HistoriqueTache.Champ.COMMENTAIRE, motif="Note"
    )
    create_deadline_alerts(today=TODAY)
    sync_rows()  # the beat rows and their crontabs
    now = timezone.now()
    JobRun.objects.create(job="check_task_deadlines", business_date=TODAY, started_at=now)
    OutboundEmail.objects.create(
        to_address=world.bob.email,
        subject="S",
        body_text="T",
        status=OutboundEmail.Status.FAILED,
    )
    canal = Canal.objects.create(
        nom="Équipe", url="json://127.0.0.1:9/s3cret", url_masquee="json://…", projet=world.projet
    )
    MessageCanal.objects.create(
        canal=canal, kind=MessageCanal.Kind.ALERTS, title="T", status=MessageCanal.Status.FAILED
    )
    NotificationDefaults.objects.create(alert_emails=False)
    Absence.objects.create(utilisateur=world.bob, debut=TODAY, fin=TODAY)
    JourNonOuvre.objects.create(date=TODAY + datetime.timedelta(days=30), libelle="Pont")
    create_token(user=world.bob, name="Export")
    Group.objects.create(name="Équipe projet")
    IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    SolarSchedule.objects.create(event="sunrise", latitude=48.85, longitude=2.35)
    ClockedSchedule.objects.create(clocked_time=now + datetime.timedelta(days=1))
    TaskResult.objects.create(task_id="t-1", task_name="core.tasks.check_task_deadlines")
    GroupResult.objects.create(group_id="g-1")
    where = {"ip_address": "192.0.2.1", "user_agent": "x", "path_info": "/comptes/login/"}
    AccessAttempt.objects.create(username="bob", failures_since_start=9, **where)
    AccessFailureLog.objects.create(username="bob", **where)
    AccessLog.objects.create(username="bob", **where)


def staff(role: str) -> User:
    user = UserFactory(username=f"staff-{role}", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(ROLES[role]))
    return user


def test_every_admin_action_declares_its_permission(db):
    undeclared = [
        f"{model._meta.label}.{name}"
        for model, modeladmin in registered()
        for name, permissions in actions_of(modeladmin).items()
        if not permissions
    ]
    assert undeclared == []


def test_every_admin_model_has_a_row_for_the_walk(populated):
    empty = [m._meta.label for m, _ma in registered() if not m._default_manager.exists()]
    assert empty == []


@pytest.mark.parametrize("role", ROLES)
def test_no_action_works_without_its_permission(populated, role, monkeypatch):
    queued: list[str] = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **k: queued.append(task.name))
    user = staff(role)
    client = client_for(user)
    may = EDITOR_MAY if role == "editor" else set()
    offered, before = set(), snapshot()

    for model, modeladmin in registered():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        selected = list(model._default_manager.values_list("pk", flat=True))
        for name, permissions in actions_of(modeladmin).items():
            if holds(modeladmin, user, permissions):
                offered.add((model._meta.label, name))
            if (model._meta.label, name) in may:
                continue
            data = {"action": name, ACTION_CHECKBOX_NAME: selected, "index": 0, "post": "yes"}
            assert client.post(url, data).status_code in (200, 302, 403), (model, name)

    after = snapshot()
    assert [label for label in before if before[label] != after[label]] == []
    assert queued == []  # no job run
    assert offered == may


def test_switching_jobs_off_needs_change_and_running_one_needs_run(populated, monkeypatch):
    queued: list[str] = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **k: queued.append(task.name))
    url = reverse("admin:django_celery_beat_periodictask_changelist")
    rows = list(PeriodicTask.objects.values_list("pk", flat=True))
    viewer = client_for(grant(UserFactory(is_staff=True), "django_celery_beat.view_periodictask"))
    editor = client_for(staff("editor"))
    runner = grant(UserFactory(is_staff=True), "django_celery_beat.view_periodictask")
    runner = client_for(grant(runner, "core.run_job"))

    viewer.post(url, {"action": "disable_tasks", ACTION_CHECKBOX_NAME: rows})
    assert PeriodicTask.objects.filter(enabled=False).count() == 0
    editor.post(url, {"action": "run_tasks", ACTION_CHECKBOX_NAME: rows})
    assert queued == []

    editor.post(url, {"action": "disable_tasks", ACTION_CHECKBOX_NAME: rows})
    runner.post(url, {"action": "run_tasks", ACTION_CHECKBOX_NAME: rows[:1]})
    assert PeriodicTask.objects.filter(enabled=True).count() == 0
    assert len(queued) == 1
