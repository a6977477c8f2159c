"""The notification centre: own notifications only, filters, read one, read all."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import NotificationTache
from core.selectors.urgency import alert_urgency_keys
from core.services.notifications import mark_all_read, mark_read
from tests.factories import NotificationFactory, TacheFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

Type = NotificationTache.Type
LIST = reverse("core:notification_list")


@pytest.fixture
def tache(world):
    return TacheFactory(projet=world.projet, nom="Migrer l'annuaire", responsable=world.bob)


def notify(user, tache, **kwargs) -> NotificationTache:
    return NotificationFactory(destinataire=user, tache=tache, **kwargs)


def test_lists_only_my_notifications_newest_first(world, tache):
    first = notify(world.bob, tache, titre="Première alerte")
    second = notify(world.bob, tache, titre="Deuxième alerte")
    notify(world.alice, tache, titre="Alerte d'Alice")

    response = client_for(world.bob).get(LIST)

    page = list(response.context["page"].object_list)
    assert page == [second, first]
    content = response.content.decode()
    assert "Alerte d'Alice" not in content
    assert content.index("Deuxième alerte") < content.index("Première alerte")
    # Each notification links to its task.
    assert reverse("core:task_detail", args=[tache.pk]) in content


def _ids(response) -> list[int]:
    return [n.pk for n in response.context["page"].object_list]


def test_pages_by_key_25_at_a_time_newest_first(world, tache):
    # Time is frozen: every notification has the same date, the id breaks the tie.
    made = NotificationFactory.create_batch(60, destinataire=world.bob, tache=tache)
    newest_first = [n.pk for n in reversed(made)]
    client = client_for(world.bob)

    first = client.get(LIST)
    older = first.context["page"].older.token
    second = client.get(LIST, {"older": older})
    third = client.get(LIST, {"older": second.context["page"].older.token})

    assert _ids(first) + _ids(second) + _ids(third) == newest_first
    assert [len(_ids(r)) for r in (first, second, third)] == [25, 25, 10]
    assert first.context["page"].newer is None and third.context["page"].older is None
    assert f"older={older}" in first.content.decode()
    assert "60 notifications" in first.content.decode()
    # Back towards the newest: the same pages again.
    back = client.get(LIST, {"newer": third.context["page"].newer.token})
    assert _ids(back) == _ids(second)
    assert _ids(client.get(LIST, {"newer": back.context["page"].newer.token})) == _ids(first)


def test_a_mangled_cursor_shows_the_first_page(world, tache):
    NotificationFactory.create_batch(30, destinataire=world.bob, tache=tache)
    client = client_for(world.bob)

    for token in ("abc", "12-", "-5", "9" * 40 + "-1", "", "1-" + "9" * 30, f"1-{2**63}", "1-0"):
        response = client.get(LIST, {"older": token})
        assert response.status_code == 200
        assert _ids(response) == _ids(client.get(LIST))


def test_filters_stay_in_the_page_links(world, tache):
    NotificationFactory.create_batch(30, destinataire=world.bob, tache=tache, lue=False)
    NotificationFactory.create_batch(5, destinataire=world.bob, tache=tache, lue=True)

    response = client_for(world.bob).get(LIST, {"statut": "unread"})

    content = response.content.decode()
    token = response.context["page"].older.token
    assert f"?statut=unread&amp;older={token}" in content
    assert "30 notifications" in content


def test_beyond_a_thousand_the_total_is_not_counted(world, tache):
    NotificationTache.objects.bulk_create(
        NotificationTache(destinataire=world.bob, tache=tache, titre=f"A{i}", message="m")
        for i in range(1001)
    )

    content = client_for(world.bob).get(LIST).content.decode()

    assert re.search(r"Plus de 1\s000 notifications", content)  # not 1 001: not counted


def test_badge_says_99_plus_beyond_99(world, tache):
    NotificationTache.objects.bulk_create(
        NotificationTache(destinataire=world.bob, tache=tache, titre=f"A{i}", message="m")
        for i in range(150)
    )

    content = client_for(world.bob).get(LIST).content.decode()

    assert 'data-count="100"' in content and ">99+</span>" in content


def test_filters_unread_and_by_type(world, tache):
    read_late = notify(world.bob, tache, type_notification=Type.ALERTE_RETARD, lue=True)
    unread_late = notify(world.bob, tache, type_notification=Type.ALERTE_RETARD)
    unread_today = notify(world.bob, tache, type_notification=Type.ALERTE_CRITIQUE)
    client = client_for(world.bob)

    unread = client.get(LIST, {"statut": "unread"}).context["page"].object_list
    assert set(unread) == {unread_late, unread_today}
    late = client.get(LIST, {"type": Type.ALERTE_RETARD}).context["page"].object_list
    assert set(late) == {read_late, unread_late}
    both = client.get(LIST, {"statut": "unread", "type": Type.ALERTE_CRITIQUE})
    assert list(both.context["page"].object_list) == [unread_today]


def test_bad_filter_shows_everything_with_an_error(world, tache):
    notify(world.bob, tache)
    response = client_for(world.bob).get(LIST, {"type": "NOT_A_TYPE"})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1
    assert response.context["filter_form"].errors["type"]


def test_urgency_colour_and_icon_per_type(world, tache):
    notify(world.bob, tache, type_notification=Type.ALERTE_RETARD)
    notify(world.bob, tache, type_notification=Type.ALERTE_CRITIQUE)
    notify(world.bob, tache, type_notification=Type.ALERTE_ECHEANCE)

    content = client_for(world.bob).get(LIST).content.decode()

    assert 'class="notification late unread"' in content
    assert 'class="notification today unread"' in content
    assert 'class="notification soon unread"' in content
    assert content.count("<svg") >= 3


def test_mark_one_read(world, tache):
    notification = notify(world.bob, tache)
    other = notify(world.bob, tache)
    client = client_for(world.bob)

    response = client.post(reverse("core:notification_read", args=[notification.pk]))

    assert response.status_code == 302
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.lue and notification.date_lecture is not None
    assert not other.lue
    assert client.get(LIST).context["unread_notifications"] == 1


def test_mark_one_read_with_htmx_returns_the_row_and_the_new_badge(world, tache):
    notification = notify(world.bob, tache)
    notify(world.bob, tache)
    url = reverse("core:notification_read", args=[notification.pk])

    response = client_for(world.bob).post(url, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert f'id="notification-{notification.pk}"' in content
    assert "notification late read" in content
    assert 'data-hx-swap-oob="true"' in content
    assert 'data-count="1"' in content


def test_reading_twice_keeps_the_first_reading_time(world, tache):
    notification = notify(world.bob, tache)
    client = client_for(world.bob)
    url = reverse("core:notification_read", args=[notification.pk])
    client.post(url)
    notification.refresh_from_db()
    first_read = notification.date_lecture

    client.post(url)

    notification.refresh_from_db()
    assert notification.date_lecture == first_read


def test_someone_elses_notification_is_a_404_and_stays_unread(world, tache):
    alices = notify(world.alice, tache)

    response = client_for(world.bob).post(reverse("core:notification_read", args=[alices.pk]))

    assert response.status_code == 404
    alices.refresh_from_db()
    assert not alices.lue


def test_mark_all_read_touches_only_my_notifications(world, tache):
    mine = [notify(world.bob, tache) for _ in range(3)]
    alices = notify(world.alice, tache)
    client = client_for(world.bob)

    response = client.post(reverse("core:notification_read_all"), follow=True)

    assert response.context["unread_notifications"] == 0
    assert "3" in str(next(iter(response.context["messages"])))
    assert all(n.lue for n in NotificationTache.objects.filter(pk__in=[m.pk for m in mine]))
    alices.refresh_from_db()
    assert not alices.lue


def test_mark_all_read_redirects_back_only_to_this_site(world, tache):
    client = client_for(world.bob)
    url = reverse("core:notification_read_all")

    back = client.post(url, {"next": f"{LIST}?statut=unread"})
    assert back["Location"] == f"{LIST}?statut=unread"
    away = client.post(url, {"next": "https://evil.example.com/"})
    assert away["Location"] == LIST


def test_reading_needs_post(world, tache):
    notification = notify(world.bob, tache)
    client = client_for(world.bob)

    assert client.get(reverse("core:notification_read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("core:notification_read_all")).status_code == 405
    notification.refresh_from_db()
    assert not notification.lue


@pytest.mark.parametrize("url_name", ["core:notification_read", "core:notification_read_all"])
def test_posts_without_csrf_token_are_refused(world, tache, url_name):
    notification = notify(world.bob, tache)
    args = [notification.pk] if url_name == "core:notification_read" else []
    client = client_for(world.bob, enforce_csrf_checks=True)

    response = client.post(reverse(url_name, args=args))

    assert response.status_code == 403
    notification.refresh_from_db()
    assert not notification.lue


def test_csrf_token_from_the_page_is_accepted(world, tache):
    notify(world.bob, tache)
    client = client_for(world.bob, enforce_csrf_checks=True)
    page = client.get(LIST)
    token = page.context["csrf_token"]

    response = client.post(reverse("core:notification_read_all"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert not NotificationTache.objects.filter(destinataire=world.bob, lue=False).exists()


def test_badge_is_on_every_page(world, tache):
    notify(world.bob, tache)
    notify(world.bob, tache)
    client = client_for(world.bob)

    for url in [reverse("core:dashboard"), reverse("core:project_list"), LIST]:
        content = client.get(url).content.decode()
        assert 'id="notif-badge"' in content
        assert 'data-count="2"' in content


def test_anonymous_is_sent_to_sign_in(world):
    response = Client().get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_mark_all_read_answers_at_once_and_leaves_the_rest_to_the_background(
    world, tache, monkeypatch, django_capture_on_commit_callbacks
):
    NotificationTache.objects.bulk_create(
        NotificationTache(destinataire=world.bob, tache=tache, titre=f"A{i}", message="m")
        for i in range(12)
    )
    monkeypatch.setattr("core.views.notifications.MARKED_IN_REQUEST", 5)
    client = client_for(world.bob)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("core:notification_read_all"), follow=True)

    texts = [str(m) for m in response.context["messages"]]
    assert "5 notifications marquées comme lues." in texts
    assert any("dans un instant" in text for text in texts)
    assert NotificationTache.objects.filter(lue=False).count() == 7
    assert len(callbacks) == 1
    callbacks[0]()  # the background task (eager in tests)
    assert not NotificationTache.objects.filter(lue=False).exists()


def test_mark_all_read_stops_at_what_the_user_saw(world, tache):
    seen = notify(world.bob, tache)
    NotificationTache.objects.filter(pk=seen.pk).update(
        date_creation=seen.date_creation - datetime.timedelta(minutes=1)
    )
    arriving = notify(world.bob, tache)

    result = mark_all_read(
        user=world.bob, up_to=arriving.date_creation - datetime.timedelta(seconds=1)
    )

    assert (result.marked, result.remaining) == (1, False)
    seen.refresh_from_db()
    arriving.refresh_from_db()
    assert seen.lue and not arriving.lue


def test_mark_read_says_whether_it_changed_anything(world, tache):
    mine, alices = notify(world.bob, tache), notify(world.alice, tache)

    assert mark_read(user=world.bob, notification_id=mine.pk) is True
    assert mark_read(user=world.bob, notification_id=mine.pk) is False  # already read
    assert mark_read(user=world.bob, notification_id=alices.pk) is False  # not mine
    alices.refresh_from_db()
    assert not alices.lue


def test_an_alert_offers_task_actions_only_to_who_may_still_change_the_task(world, tache):
    """bob's alert about a task since given to charlie keeps its link but loses
    "Marquer terminée" / "Signaler un blocage"; alice, the lead, keeps them; a done
    task offers none."""
    notify(world.bob, tache, titre="Alerte de Bob")
    notify(world.alice, tache, titre="Alerte d'Alice")
    finish = reverse("core:task_finish", args=[tache.pk])

    assert finish in client_for(world.bob).get(LIST).content.decode()

    tache.responsable = world.charlie
    tache.save()
    bobs = client_for(world.bob).get(LIST).content.decode()
    assert "Alerte de Bob" in bobs and finish not in bobs
    assert 'data-action="block"' not in bobs
    assert finish in client_for(world.alice).get(LIST).content.decode()

    tache.statut = tache.Statut.TERMINEE
    tache.save()
    assert finish not in client_for(world.alice).get(LIST).content.decode()


def _centre_titles(client, **params) -> list[str]:
    return [n.titre for n in client.get(LIST, params).context["page"].object_list]


def test_a_runs_alerts_come_most_urgent_first_the_latest_first_among_late_ones(world):
    """One morning run: late 20 days, late 1 day, due today (critical, then normal),
    due in 2 days; the centre lists them in that order, whatever their insertion."""
    from core.services.deadlines import create_deadline_alerts

    today = datetime.date(2026, 11, 25)
    for nom, days, priorite in (
        ("Dans deux jours", 2, "NORMALE"),
        ("Retard d'un jour", -1, "CRITIQUE"),
        ("Aujourd'hui normale", 0, "NORMALE"),
        ("Retard de vingt jours", -20, "BASSE"),
        ("Aujourd'hui critique", 0, "CRITIQUE"),
    ):
        TacheFactory(
            projet=world.projet,
            nom=nom,
            responsable=world.bob,
            priorite=priorite,
            date_echeance=today + datetime.timedelta(days=days),
        )
    create_deadline_alerts(today=today)

    titles = _centre_titles(client_for(world.bob))

    assert [t.split(": ", 1)[1] for t in titles] == [
        "Retard de vingt jours",
        "Retard d'un jour",
        "Aujourd'hui critique",
        "Aujourd'hui normale",
        "Dans deux jours",
    ]


def test_pages_of_one_run_follow_the_urgency_order_both_ways(world):
    """60 alerts of one run (one creation time), then a newer event: pages of 25
    by key give each notification once, in order, forwards and back."""
    from core.services.deadlines import create_deadline_alerts

    today = datetime.date(2026, 11, 25)
    for i in range(60):
        TacheFactory(
            projet=world.projet,
            responsable=world.bob,
            priorite=("CRITIQUE", "NORMALE", "BASSE")[i % 3],
            date_echeance=today - datetime.timedelta(days=i % 7),
        )
    create_deadline_alerts(today=today)
    event = notify(world.bob, tache=TacheFactory(projet=world.projet), type_notification="BLOCAGE")
    NotificationTache.objects.filter(pk=event.pk).update(
        date_creation=timezone.now() + datetime.timedelta(minutes=5)
    )
    client = client_for(world.bob)
    everything = [
        n.pk
        for n in NotificationTache.objects.filter(destinataire=world.bob).order_by(
            "-date_creation", *alert_urgency_keys()
        )
    ]

    first = client.get(LIST)
    second = client.get(LIST, {"older": first.context["page"].older.token})
    third = client.get(LIST, {"older": second.context["page"].older.token})
    assert _ids(first) + _ids(second) + _ids(third) == everything
    assert _ids(first)[0] == event.pk  # the newest first
    # Late by 6 days (the earliest due date), critical first, lead the run.
    first_alert = NotificationTache.objects.get(pk=_ids(first)[1])
    assert (first_alert.date_echeance, first_alert.tache.priorite) == (
        today - datetime.timedelta(days=6),
        "CRITIQUE",
    )
    back = client.get(LIST, {"newer": third.context["page"].newer.token})
    assert _ids(back) == _ids(second)


def test_a_done_tasks_old_alert_is_marked_done_not_live(world, tache):
    notify(world.bob, tache, titre="En retard de 6 jours : Migrer l'annuaire")
    tache.statut = tache.Statut.TERMINEE
    tache.save()

    content = client_for(world.bob).get(LIST).content.decode()

    row = content.split('class="notification ')[1].split("</li>")[0]
    assert row.startswith("late unread handled")
    assert '<span class="pill done" data-closed="TERMINEE">terminée</span>' in row


def test_a_blockage_notification_offers_the_lead_to_lift_it(world, tache):
    from core.services import task_updates

    task_updates.report_blocked(
        tache_id=tache.pk, author=world.bob, reason="Pas d'accès", today=timezone.localdate()
    )

    content = client_for(world.alice).get(LIST).content.decode()

    assert "Blocage signalé" in content and "Pas d&#x27;accès" in content
    assert reverse("core:task_unblock", args=[tache.pk]) in content
    assert 'data-action="unblock"' in content and 'data-action="block"' not in content


def test_a_phase_alert_shows_its_project_and_opens_the_project_page(world, tache):
    from tests.factories import EtapeFactory

    etape = EtapeFactory(projet=world.projet, nom="Recette")
    today = timezone.localdate()
    phase_alert = NotificationFactory(
        destinataire=world.alice,
        tache=None,
        etape=etape,
        type_notification=Type.ALERTE_ETAPE,
        titre="Fin de la phase aujourd'hui : Recette",
        date_alerte=today,
        date_echeance=today,
    )
    notify(world.alice, tache, type_notification=Type.ALERTE_RETARD, date_alerte=today)
    client = client_for(world.alice)

    content = client.get(LIST).content.decode()

    row = content.split(f'id="notification-{phase_alert.pk}"')[1].split("</li>")[0]
    assert "Fin de la phase aujourd&#x27;hui : Recette" in row
    assert "Refonte du portail" in row and "Fin de phase" in row  # project, type
    assert "Voir le projet" in row and 'data-action="done"' not in row
    assert 'class="notification today unread"' in content
    opened = client.get(reverse("core:notification_open", args=[phase_alert.pk]))
    assert opened.url == reverse("core:project_detail", args=[world.projet.pk])
    phase_alert.refresh_from_db()
    assert phase_alert.lue
    read = client.post(
        reverse("core:notification_read", args=[phase_alert.pk]), headers={"HX-Request": "true"}
    )
    assert "Refonte du portail" in read.content.decode()


def test_a_project_alert_opens_the_project_page(world):
    alert = NotificationFactory(
        destinataire=world.alice,
        tache=None,
        projet=world.projet,
        type_notification=Type.ALERTE_PROJET,
    )
    client = client_for(world.alice)

    assert "Refonte du portail" in client.get(LIST).content.decode()
    opened = client.get(reverse("core:notification_open", args=[alert.pk]))
    assert opened.url == reverse("core:project_detail", args=[world.projet.pk])


def test_pages_mixing_phase_and_task_alerts_of_one_run_list_each_once(world):
    """One run's alerts share their creation time: the keys (urgency, then id)
    order them, a phase's alert without a task's priority included."""
    from tests.factories import EtapeFactory

    today = timezone.localdate()
    made = []
    for i in range(30):
        due = today + datetime.timedelta(days=i % 3 - 1)  # late, today, soon
        task = TacheFactory(projet=world.projet)
        made.append(notify(world.alice, task, date_alerte=today, date_echeance=due))
        made.append(
            NotificationFactory(
                destinataire=world.alice,
                tache=None,
                etape=EtapeFactory(projet=world.projet),
                type_notification=Type.ALERTE_ETAPE,
                date_alerte=today,
                date_echeance=due,
            )
        )
    client = client_for(world.alice)

    seen, response = [], client.get(LIST)
    while True:
        seen += _ids(response)
        if response.context["page"].older is None:
            break
        response = client.get(LIST, {"older": response.context["page"].older.token})

    assert sorted(seen) == sorted(n.pk for n in made)
    assert len(seen) == len(set(seen)) == 60
