"""A project's alert policy from its page: the lead (and who may change the project
in the admin) sets it, the deadline engine follows it, nobody else touches it."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from core.models import NotificationDefaults, NotificationTache, Projet
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, ProjetFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
POLICY = (
    "alerte_jours",
    "alerte_chef_aujourdhui",
    "alerte_chef_retard",
    "retard_repetition_jours",
    "escalade_jours_ouvres",
)
BLANK = dict.fromkeys(POLICY, "")


def url(projet: Projet) -> str:
    return reverse("core:project_alert_policy", args=[projet.pk])


def stored(projet: Projet) -> dict:
    return dict(Projet.objects.filter(pk=projet.pk).values(*POLICY, "date_modification").get())


def policy_block(client, projet: Projet) -> str:
    """The alert policy's block of the project page, as text (no-break spaces kept)."""
    page = client.get(projet.get_absolute_url()).content.decode()
    block = re.search(r'<p class="card small" id="alert-policy">(.*?)</p>', page, re.S)[1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", block))).strip()


@pytest.fixture
def defaults(db) -> NotificationDefaults:
    """The organisation's ladder is "2": a project's own ladder shows in the alerts."""
    row = NotificationDefaults.current()
    row.alerte_jours = "2"
    row.save()
    return row


def test_the_lead_saves_a_ladder_and_the_next_run_follows_it(world, defaults):
    # TODAY is a Wednesday: Thursday is 1 day away, Friday 2, next Wednesday 7.
    for days in (1, 2, 7):
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY + days * DAY)
    other = ProjetFactory(chef_de_projet=world.alice)  # keeps the default ladder
    TacheFactory(projet=other, responsable=world.alice, date_echeance=TODAY + 2 * DAY)

    response = client_for(world.alice).post(url(world.projet), {**BLANK, "alerte_jours": "3, 7,1"})

    assert response.status_code == 302
    assert response.url == world.projet.get_absolute_url()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Les alertes du projet sont enregistrées."
    ]
    assert stored(world.projet)["alerte_jours"] == "7,3,1"
    create_deadline_alerts(today=TODAY)
    advance = NotificationTache.objects.filter(
        type_notification=NotificationTache.Type.ALERTE_ECHEANCE
    )
    assert sorted(advance.values_list("tache__date_echeance", "tache__projet_id")) == [
        (TODAY + DAY, world.projet.pk),
        (TODAY + 2 * DAY, other.pk),
        (TODAY + 7 * DAY, world.projet.pk),
    ]


def test_the_form_shows_the_stored_policy_and_the_defaults(world, defaults):
    Projet.objects.filter(pk=world.projet.pk).update(alerte_jours="", alerte_chef_retard=False)

    response = client_for(world.alice).get(url(world.projet))

    form = response.context["form"]
    assert response.status_code == 200
    # No advance alert is "0": saved again, it must not become "the default".
    assert form["alerte_jours"].value() == "0"
    assert form["alerte_chef_retard"].value() is False
    content = response.content.decode()
    assert "actuellement 2." in content  # the default ladder, in the help text
    assert "Par défaut (oui)" in content and "Par défaut (chaque jour)" in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_the_lead_sets_every_field_and_the_page_says_it(world, defaults):
    client = client_for(world.alice)
    data = {
        "alerte_jours": "0",
        "alerte_chef_aujourdhui": "False",
        "alerte_chef_retard": "True",
        "retard_repetition_jours": "7",
        "escalade_jours_ouvres": "10",
    }
    assert client.post(url(world.projet), data).status_code == 302

    saved = stored(world.projet)
    assert [saved[name] for name in POLICY] == ["", False, True, 7, 10]
    assert policy_block(client, world.projet) == (
        "Alertes\u00a0: aucune alerte avant l'échéance\u00a0; pas d'alerte du jour J au chef "
        "de projet\u00a0; les retards au chef de projet\u00a0; retards répétés chaque "
        "semaine. Modifier les alertes"
    )
    # Recorded in the project's admin history, under the lead's name.
    entry = LogEntry.objects.get(object_id=str(world.projet.pk))
    assert entry.user_id == world.alice.pk
    assert "alertes avant l'échéance" in entry.get_change_message()


def test_blank_fields_follow_the_defaults_and_the_page_says_so(world, defaults):
    Projet.objects.filter(pk=world.projet.pk).update(
        alerte_jours="7,3,1",
        alerte_chef_aujourdhui=False,
        alerte_chef_retard=False,
        retard_repetition_jours=3,
        escalade_jours_ouvres=10,
    )
    client = client_for(world.alice)

    assert client.post(url(world.projet), BLANK).status_code == 302

    assert [stored(world.projet)[name] for name in POLICY] == [None] * 5
    assert policy_block(client, world.projet) == (
        "Alertes\u00a0: 2 jours avant l'échéance (par défaut)\u00a0; le jour J et les "
        "retards au chef de projet (par défaut)\u00a0; retards répétés chaque jour (par "
        "défaut). Modifier les alertes"
    )


@pytest.mark.parametrize(
    ("ladder", "error"),
    [
        ("7,x", "Indiquez des jours en nombres entiers séparés par des virgules"),
        ("100", "Chaque jour doit être compris entre 1 et 60."),
    ],
)
def test_an_invalid_ladder_shows_the_error_and_stores_nothing(world, defaults, ladder, error):
    Projet.objects.filter(pk=world.projet.pk).update(alerte_jours="7,3,1")
    before = stored(world.projet)
    data = {**BLANK, "alerte_jours": ladder, "alerte_chef_retard": "False"}

    response = client_for(world.alice).post(url(world.projet), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert stored(world.projet) == before
    assert not LogEntry.objects.exists()


def test_get_never_changes_anything(world, defaults):
    before = stored(world.projet)
    response = client_for(world.alice).get(url(world.projet), {"alerte_jours": "1"})
    assert response.status_code == 200
    assert stored(world.projet) == before
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("who", ["member", "dsi"])
def test_only_the_lead_may_change_it(world, defaults, who):
    """A member, and the DSI who reads every project, are refused (403)."""
    user = world.bob if who == "member" else grant(UserFactory(username="dsi"), *PORTFOLIO)
    client = client_for(user)
    before = stored(world.projet)

    assert client.get(url(world.projet)).status_code == 403
    assert client.post(url(world.projet), {**BLANK, "alerte_jours": "1"}).status_code == 403

    assert stored(world.projet) == before
    page = client.get(world.projet.get_absolute_url()).content.decode()
    assert 'id="alert-policy"' in page and url(world.projet) not in page


def test_a_user_of_another_project_gets_404(world, defaults):
    ProjetFactory(chef_de_projet=world.charlie)
    client = client_for(world.charlie)
    before = stored(world.projet)

    assert client.get(url(world.projet)).status_code == 404
    assert client.post(url(world.projet), {**BLANK, "alerte_jours": "1"}).status_code == 404
    assert stored(world.projet) == before


def test_who_may_change_the_project_in_the_admin_may_set_it(world, defaults):
    editor = grant(UserFactory(username="editor"), *PORTFOLIO, "core.change_projet")
    superuser = UserFactory(username="root", is_superuser=True)
    for user, ladder in ((editor, "5"), (superuser, "4")):
        client = client_for(user)
        assert url(world.projet) in client.get(world.projet.get_absolute_url()).content.decode()
        response = client.post(url(world.projet), {**BLANK, "alerte_jours": ladder})
        assert response.status_code == 302
        assert stored(world.projet)["alerte_jours"] == ladder


def test_the_form_needs_its_csrf_token(world, defaults):
    client = client_for(world.alice, enforce_csrf_checks=True)
    before = stored(world.projet)

    refused = client.post(url(world.projet), {**BLANK, "alerte_jours": "1"})

    assert refused.status_code == 403
    assert stored(world.projet) == before
    token = client.get(url(world.projet)).context["csrf_token"]
    data = {**BLANK, "alerte_jours": "1", "csrfmiddlewaretoken": str(token)}
    assert client.post(url(world.projet), data).status_code == 302
    assert stored(world.projet)["alerte_jours"] == "1"


def test_the_service_checks_too(world, defaults):
    """What the page refuses, the service refuses for any other caller."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from core.services.alert_policy import save_alert_policy

    policy = dict.fromkeys(POLICY)
    with pytest.raises(PermissionDenied):
        save_alert_policy(projet=world.projet, by=world.bob, **{**policy, "alerte_jours": "1"})
    with pytest.raises(ValidationError):
        save_alert_policy(projet=world.projet, by=world.alice, **{**policy, "alerte_jours": "0,x"})
    with pytest.raises(ValidationError):
        save_alert_policy(
            projet=world.projet, by=world.alice, **{**policy, "escalade_jours_ouvres": 61}
        )
    assert [stored(world.projet)[name] for name in POLICY] == [None] * 5
    assert save_alert_policy(projet=world.projet, by=world.alice, **policy) == []  # unchanged
    assert not LogEntry.objects.exists()


def test_the_page_says_when_late_tasks_are_escalated(world, defaults):
    """Once the administrators name who gets escalations, the project's limit shows."""
    from django.contrib.auth.models import Group

    defaults.escalade_groupe = Group.objects.create(name="Gestionnaires du portefeuille")
    defaults.save()
    client = client_for(world.alice)
    escalation = "escalade aux gestionnaires du portefeuille au-delà de"
    assert f"{escalation} 5 jours ouvrés de retard (par défaut)." in policy_block(
        client, world.projet
    )

    client.post(url(world.projet), {**BLANK, "escalade_jours_ouvres": "1"})

    assert f"{escalation} 1 jour ouvré de retard." in policy_block(client, world.projet)
