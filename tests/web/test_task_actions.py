"""The owner acts on their task: update, "Marquer terminée", "Signaler un blocage";
history on the task page; a notification opened is read; one language."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import HistoriqueTache, OutboundEmail, Tache
from core.services import task_updates
from core.services.daily_check import run_deadline_check
from tests.conftest import TODAY
from tests.factories import NotificationFactory, ProjetFactory, TacheFactory, add_comments
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)


@pytest.fixture
def tache(world):
    return TacheFactory(
        projet=world.projet,
        nom="Migrer l'annuaire",
        responsable=world.bob,
        date_echeance=TODAY - 2 * DAY,
    )


def test_owner_updates_status_progress_and_comment_from_the_task_page(world, tache):
    client = client_for(world.bob)
    page = client.get(reverse("core:task_detail", args=[tache.pk])).content.decode()
    assert 'id="progress-form"' in page
    assert reverse("core:task_edit", args=[tache.pk]) not in page  # not the lead's form

    response = client.post(
        reverse("core:task_progress", args=[tache.pk]),
        {"statut": "EN_COURS", "avancement": "60", "commentaire": "Moitié des comptes migrés."},
        follow=True,
    )

    tache.refresh_from_db()
    assert (tache.statut, tache.avancement) == ("EN_COURS", 60)
    content = response.content.decode()
    assert "Tâche «\u00a0Migrer l&#x27;annuaire\u00a0» mise à jour." in content
    assert "À faire → En cours" in content
    assert "Moitié des comptes migrés." in content


def test_blocking_without_a_reason_is_refused_with_a_message(world, tache):
    response = client_for(world.bob).post(
        reverse("core:task_progress", args=[tache.pk]), {"statut": "BLOQUEE", "avancement": "0"}
    )
    assert response.status_code == 200
    assert response.context["progress_form"].errors["commentaire"] == [
        "Indiquez ce qui bloque la tâche."
    ]
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.A_FAIRE


def test_a_member_cannot_act_on_a_task_they_do_not_own(world, tache):
    alices = TacheFactory(projet=world.projet, responsable=world.alice)
    client = client_for(world.bob)

    assert (
        'id="progress-form"'
        not in client.get(reverse("core:task_detail", args=[alices.pk])).content.decode()
    )
    for name in ("core:task_progress", "core:task_finish", "core:task_block", "core:task_edit"):
        response = client.post(reverse(name, args=[alices.pk]), {"statut": "TERMINEE"})
        assert response.status_code == 403, name
    alices.refresh_from_db()
    assert alices.statut == Tache.Statut.A_FAIRE
    # A task of a project bob cannot see does not exist for him.
    hidden = TacheFactory(projet=ProjetFactory(chef_de_projet=world.charlie))
    assert client.get(reverse("core:task_finish", args=[hidden.pk])).status_code == 404


def test_finish_link_is_a_confirmation_on_get_and_the_change_on_post(world, tache):
    client = client_for(world.bob)
    url = reverse("core:task_finish", args=[tache.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Marquer cette tâche comme terminée\u00a0?" in page.content.decode()
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.A_FAIRE
    assert not HistoriqueTache.objects.exists()

    client.post(url)
    tache.refresh_from_db()
    assert (tache.statut, tache.date_fin_reelle) == (Tache.Statut.TERMINEE, TODAY)
    assert "déjà terminée" in client.get(url).content.decode()


def test_finish_needs_csrf(world, tache):
    response = client_for(world.bob, enforce_csrf_checks=True).post(
        reverse("core:task_finish", args=[tache.pk])
    )
    assert response.status_code == 403
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.A_FAIRE


def test_block_from_an_alert_keeps_the_reason_and_returns(world, tache):
    client = client_for(world.bob)
    url = reverse("core:task_block", args=[tache.pk])
    back = reverse("core:notification_list")
    assert client.get(url, {"next": back}).status_code == 200

    refused = client.post(url, {"motif": "", "next": back})
    assert refused.context["form"].errors["motif"]
    response = client.post(url, {"motif": "Pas d'accès à l'annuaire", "next": back})

    assert response["Location"] == back
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.BLOQUEE
    row = HistoriqueTache.objects.get(tache=tache)
    assert (row.nouveau_statut, row.motif, row.auteur) == (
        "BLOQUEE",
        "Pas d'accès à l'annuaire",
        world.bob,
    )


def test_notification_centre_offers_the_actions_that_make_sense(world, tache):
    done = TacheFactory(projet=world.projet, responsable=world.bob, statut=Tache.Statut.TERMINEE)
    open_alert = NotificationFactory(destinataire=world.bob, tache=tache)
    done_alert = NotificationFactory(destinataire=world.bob, tache=done)

    content = client_for(world.bob).get(reverse("core:notification_list")).content.decode()

    def row(notification):
        start = content.index(f'id="notification-{notification.pk}"')
        return content[start : content.index("</li>", start)]

    assert reverse("core:task_finish", args=[tache.pk]) in row(open_alert)
    assert reverse("core:task_block", args=[tache.pk]) in row(open_alert)
    assert "Marquer terminée" not in row(done_alert)
    assert reverse("core:notification_open", args=[done_alert.pk]) in row(done_alert)


def test_opening_a_notification_marks_it_read_and_shows_the_task(world, tache):
    notification = NotificationFactory(destinataire=world.bob, tache=tache)
    alices = NotificationFactory(destinataire=world.alice, tache=tache)
    client = client_for(world.bob)

    response = client.get(reverse("core:notification_open", args=[notification.pk]))

    assert response["Location"] == reverse("core:task_detail", args=[tache.pk])
    notification.refresh_from_db()
    assert notification.lue and notification.date_lecture is not None
    assert client.get(reverse("core:notification_open", args=[alices.pk])).status_code == 404
    alices.refresh_from_db()
    assert not alices.lue


def test_task_page_shows_the_history_and_the_slips(world, tache):
    for days in (3, 10):
        tache.date_echeance = TODAY + days * DAY
        task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Décalage")

    content = client_for(world.alice).get(reverse("core:task_detail", args=[tache.pk]))
    text = content.content.decode()

    assert content.context["slips"] == 2
    assert "échéance repoussée 2 fois" in text
    assert text.count("Décalage") == 2
    assert "Alice Martin" in text


def test_lead_edit_with_a_reason_is_in_the_history(world, tache):
    response = client_for(world.alice).post(
        reverse("core:task_edit", args=[tache.pk]),
        {
            "nom": tache.nom,
            "statut": "A_FAIRE",
            "priorite": "NORMALE",
            "responsable": world.bob.pk,
            "date_echeance": "2026-12-04",
            "motif": "Licences livrées en retard",
        },
    )
    assert response.status_code == 302
    row = HistoriqueTache.objects.get(tache=tache)
    assert (row.champ, row.motif, row.is_slip) == ("ECHEANCE", "Licences livrées en retard", True)


def test_a_past_due_date_on_a_new_task_asks_for_confirmation(world):
    url = reverse("core:task_create", args=[world.projet.pk])
    data = {"nom": "Déjà en retard", "statut": "A_FAIRE", "priorite": "NORMALE"}
    data["date_echeance"] = "2026-11-20"
    client = client_for(world.alice)

    asked = client.post(url, data)
    assert asked.status_code == 200
    assert asked.context["form"].asks_confirmation
    assert "Cette échéance est déjà passée (20/11/2026)" in asked.content.decode()
    assert not Tache.objects.exists()

    confirmed = client.post(url, {**data, "confirm_past_due_date": "on"})
    assert confirmed.status_code == 302
    assert Tache.objects.get().date_echeance == datetime.date(2026, 11, 20)
    # An existing task may be given a past date without a question (closing, fixing).


def test_the_alert_email_carries_the_actions(world, tache):
    run_deadline_check(today=TODAY)
    email = OutboundEmail.objects.get(recipient=world.bob)

    finish = reverse("core:task_finish", args=[tache.pk])
    block = reverse("core:task_block", args=[tache.pk])
    for body in (email.body_text, email.body_html):
        assert finish in body and block in body
        assert reverse("core:task_detail", args=[tache.pk]) in body
    assert f"Marquer terminée\u00a0: http://localhost:8000{finish}" in email.body_text


def test_the_summary_counts_the_slips(world, tache):
    from core.services.summary import send_daily_summary

    tache.date_echeance = TODAY - 3 * DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)  # brought forward
    tache.date_echeance = TODAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)  # pushed back

    send_daily_summary(today=TODAY)

    email = OutboundEmail.objects.get(recipient=world.alice, kind=OutboundEmail.Kind.SUMMARY)
    assert "échéance repoussée 1 fois" in email.body_text
    assert "échéance repoussée 1 fois" in email.body_html


def test_an_english_browser_gets_the_french_interface(world, tache):
    client = client_for(world.bob)
    content = client.get(
        reverse("core:dashboard"), headers={"accept-language": "en-US,en;q=0.9"}
    ).content.decode()
    assert "Mes tâches" in content and "My tasks" not in content
    assert 'lang="fr"' in content
    assert "mercredi 25\u00a0novembre 2026" in content


def test_the_first_of_the_month_is_written_1er(world):
    from core.templatetags.governance import long_date

    assert long_date(datetime.date(2026, 12, 1)) == "1er\u00a0décembre 2026"
    assert long_date(datetime.date(2026, 12, 2), True) == "mercredi 2\u00a0décembre 2026"


def test_sign_out_says_so_in_french(world):
    client = client_for(world.bob)
    response = client.post(reverse("logout"), follow=True)
    assert "Vous êtes déconnecté." in response.content.decode()
    assert client.get(reverse("core:dashboard")).status_code == 302
    mail.outbox.clear()


def test_admin_labels_are_french(world):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Administration SI-Gouvernance" in index
    assert "Résultats des tâches Celery" in index and "Tâches périodiques" in index
    assert "Administration de Django" not in index
    results = client.get(reverse("admin:django_celery_results_taskresult_changelist"))
    text = results.content.decode()
    assert "Par nom de la tâche" in text
    assert not re.search(r"Task (Name|results)", text)


# --- A long history: the task page shows the latest entries, the rest is paged --------


def test_task_page_shows_the_latest_20_entries_and_links_to_the_whole_history(world, tache):
    add_comments(tache, 200, auteur=world.bob)

    response = client_for(world.bob).get(reverse("core:task_detail", args=[tache.pk]))

    text = response.content.decode()
    assert text.count('class="history-entry') == 20
    assert "Note 199" in text and "Note 180" in text and "Note 179" not in text
    history_url = reverse("core:task_history", args=[tache.pk])
    assert f'href="{history_url}"' in text
    assert "Voir tout l'historique (200)" in text


def test_a_short_history_has_no_link(world, tache):
    add_comments(tache, 20, auteur=world.bob)

    text = client_for(world.bob).get(reverse("core:task_detail", args=[tache.pk])).content
    assert reverse("core:task_history", args=[tache.pk]).encode() not in text


def test_the_whole_history_is_paged_by_50_newest_first(world, tache):
    add_comments(tache, 120, auteur=world.bob)
    client = client_for(world.alice)
    url = reverse("core:task_history", args=[tache.pk])

    first = client.get(url)
    last = client.get(url, {"page": 3})

    assert [e.motif for e in first.context["page"]][:2] == ["Note 119", "Note 118"]
    assert len(first.context["page"]) == 50 and len(last.context["page"]) == 20
    assert last.context["page"][-1].motif == "Note 0"
    assert "Page 1 sur 3" in first.content.decode()
    for absurd in ("999999999999", "-3", "abc", "9" * 5000):
        page = client.get(url, {"page": absurd})
        assert page.status_code == 200
        assert page.context["page"].number in (1, 3)


def test_the_history_page_follows_the_task_page_access_rule(world, tache):
    url = reverse("core:task_history", args=[tache.pk])
    assert client_for(world.charlie).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page


# --- Update limits: the 11th update within 10 minutes is refused, with 429 ------------


def test_the_eleventh_progress_note_is_refused_with_429_and_saves_nothing(world, tache):
    client = client_for(world.bob)
    url = reverse("core:task_progress", args=[tache.pk])
    for i in range(10):
        note = {"statut": "EN_COURS", "avancement": str(i), "commentaire": f"Note {i}"}
        assert client.post(url, note).status_code == 302

    response = client.post(url, {"statut": "BLOQUEE", "avancement": "90", "commentaire": "Trop"})

    assert response.status_code == 429
    text = response.content.decode()
    assert (
        "Trop de mises à jour de cette tâche\u00a0: au plus 10 toutes les 10\u00a0minutes" in text
    )
    assert "Trop</textarea>" in text  # what was typed is still in the form
    tache.refresh_from_db()
    assert (tache.statut, tache.avancement) == ("EN_COURS", 9)
    assert not HistoriqueTache.objects.filter(tache=tache, motif="Trop").exists()


@pytest.mark.parametrize("action", ["block", "finish", "edit"])
def test_every_path_that_writes_history_is_limited(world, tache, action):
    lead_edit = action == "edit"
    user = world.alice if lead_edit else world.bob
    add_comments(tache, 10, auteur=user)
    url, data = {
        "block": (reverse("core:task_block", args=[tache.pk]), {"motif": "Pas d'accès"}),
        "finish": (reverse("core:task_finish", args=[tache.pk]), {}),
        "edit": (
            reverse("core:task_edit", args=[tache.pk]),
            {
                "nom": tache.nom,
                "statut": "A_FAIRE",
                "priorite": "NORMALE",
                "responsable": world.bob.pk,
                "date_echeance": "2026-12-04",
                "motif": "Licences en retard",
            },
        ),
    }[action]

    response = client_for(user).post(url, data)

    assert response.status_code == 429
    assert "Rien n&#x27;a été enregistré" in response.content.decode()
    tache.refresh_from_db()
    assert (tache.statut, tache.date_echeance) == ("A_FAIRE", TODAY - 2 * DAY)
    assert HistoriqueTache.objects.filter(tache=tache).count() == 10
