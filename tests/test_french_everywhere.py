"""Every text people read is French, with French typography: the pages a member, a
lead and an administrator open, the emails, and the operators' command output.

Fails on an English word from a list, or on a plain space (or none) before « : ; ! ? ».
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client

from core.jobs import registry
from core.models import User
from core.selectors.portfolio import PortfolioFilters
from core.services.deadlines import create_deadline_alerts
from core.services.portfolio_export_jobs import generate_export, request_export
from tests.conftest import TODAY, World
from tests.factories import PORTFOLIO, SUPERVISION, NotificationFactory, TacheFactory, grant

DAY = TODAY - TODAY.replace(day=TODAY.day - 1)

# Words no French sentence of ours contains (checked as whole words, any case).
ENGLISH = [
    "the",
    "of",
    "and",
    "with",
    "without",
    "created",
    "skipped",
    "released",
    "count",
    "due",
    "soon",
    "late",
    "today",
    "owner",
    "task",
    "tasks",
    "project",
    "access",
    "run",
    "queued",
    "failed",
    "pending",
    "sent",
    "summary",
    "dry",
    "error",
    "read",
    "unread",
    "scanned",
    "recipient",
    "recipients",
    "workers",
    "broker",
    "none",
    "days",
    "day",
]
ENGLISH_WORD = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b", re.IGNORECASE)
# Before « : ; ! ? »: a no-break space (U+00A0 or the narrow U+202F), never a plain
# space nor none; an ASCII colon inside a time (08:00) or a URL is not punctuation.
BAD_SPACE = re.compile(r"( [:;!?»]|« |\w[;!?](?=\s|$)|[^\W\d]:(?=\s|$))")
# One apostrophe style: the straight one of our catalogue (Django's own uses both).
CURLY_APOSTROPHE = re.compile("\u2019")
# Text that is not ours: names, addresses and identifiers (beat entries) as they are.
BEAT_NAMES = "|".join(re.escape(job.beat_name) for job in registry.JOBS)
ALLOWED = re.compile(rf"SI-Gouvernance|Celery|Flower|https?://\S+|[\w.+-]+@[\w.-]+|{BEAT_NAMES}")


class _Text(HTMLParser):
    """The text a person reads in a page: text nodes and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "code"}:  # <code>: identifiers, as they are
            self._skip += 1
        for name, value in attrs:
            if name in {"title", "aria-label", "alt", "placeholder", "data-label"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data)


def readable(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def faults(where: str, texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        text = ALLOWED.sub("", text)
        checks = ((ENGLISH_WORD, "English"), (BAD_SPACE, "space"), (CURLY_APOSTROPHE, "’"))
        for pattern, kind in checks:
            for match in pattern.finditer(text):
                start = max(0, match.start() - 30)
                found.append(
                    f"{where}: {kind} {match.group()!r} in {text[start : match.end() + 30]!r}"
                )
    return found


@pytest.fixture
def busy(world: World, settings) -> dict:
    """The world with alerts, a skipped recipient, an owner-less task and runs of
    every daily job recorded (their figures show on the supervision page)."""
    settings.LANGUAGE_CODE = "fr"
    late = TacheFactory(
        projet=world.projet,
        nom="Migrer l'annuaire",
        responsable=world.bob,
        date_echeance=TODAY - 3 * DAY,
    )
    TacheFactory(projet=world.projet, nom="Recetter", responsable=world.bob, date_echeance=TODAY)
    TacheFactory(projet=world.projet, nom="Sans responsable", date_echeance=TODAY + DAY)
    TacheFactory(
        projet=world.projet,
        nom="Hors projet",
        responsable=world.charlie,
        date_echeance=TODAY + 2 * DAY,
    )
    create_deadline_alerts(today=TODAY - DAY)
    world.alice.email_summary = True  # whatever the administrators' default
    world.alice.save()
    NotificationFactory(destinataire=world.bob, tache=late, lue=True)
    admin = User.objects.create_user("admin", "admin@dsi.example.org", "x", is_staff=True)
    grant(admin, *PORTFOLIO, *SUPERVISION, "core.add_projet")  # add_projet: the import page
    export = request_export(owner=admin, fmt="xlsx", filters=PortfolioFilters())
    generate_export(export_id=export.pk)  # "My exports" lists it, the centre tells it
    return {"projet": world.projet, "late": late}


def command_output(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_commands_pages_and_emails_are_french(
    busy, time_machine, django_capture_on_commit_callbacks
):
    from tests.web.test_accessibility import pages  # the same pages as axe's

    time_machine.move_to(f"{TODAY.isoformat()} 09:00 +01:00", tick=False)
    found = []
    for args in (
        ("check_task_deadlines", "--dry-run"),
        ("check_task_deadlines",),
        ("send_daily_summary", "--dry-run"),
        ("send_daily_summary",),
        ("cleanup_old_notifications",),
        ("setup_periodic_tasks",),
    ):
        with django_capture_on_commit_callbacks(execute=True):  # the emails go out
            output = command_output(*args)
        found += faults(" ".join(args), output.splitlines())
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/comptes/password_reset/", {"email": busy["late"].responsable.email})
    subjects = [email.subject for email in mail.outbox]
    assert any("mot de passe" in s for s in subjects)
    assert any("alerte" in s for s in subjects) and any("quotidien" in s for s in subjects)
    for email in mail.outbox:
        texts = [email.subject, *email.body.splitlines()]
        texts += [part for html, _type in email.alternatives for part in readable(html)]
        found += faults(f"email {email.subject!r}", texts)
    for username, paths in pages(busy).items():
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        for path in paths:
            html = client.get(path).content.decode()
            found += faults(f"{username} {path}", readable(html))
            if 'class="required"' in html and "required-note" not in html:
                found.append(f"{username} {path}: a required field's * is not explained")
    refused = Client().post("/comptes/login/", {"username": "bob", "password": "wrong"})
    found += faults("refused sign-in", readable(refused.content.decode()))
    assert found == [], "\n".join(found)


def test_the_catalogue_writes_one_apostrophe():
    po = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    curly = [line for line in po.read_text(encoding="utf-8").splitlines() if "\u2019" in line]
    assert curly == []


def test_the_checks_of_this_test_fail_on_what_they_look_for():
    assert faults("x", ["3 tasks due soon"]) and faults("x", ["Projet : portail"])
    assert faults("x", ["Projet: portail"]) and faults("x", ["Vraiment ?"])
    assert faults("x", ["Nom d\u2019utilisateur"])
    assert faults("x", ["Projet\u00a0: portail, 08:00, http://a.example/?b=1"]) == []
