"""The preferences page: users choose alert and summary emails."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from core.services.email_rendering import preferences_url

URL = "/preferences/"


def test_preferences_url_is_the_unsubscribe_target(db, settings):
    settings.SITE_URL = "https://gouvernance.example.org"
    assert reverse("core:preferences") == URL
    assert preferences_url() == "https://gouvernance.example.org/preferences/"


def test_login_required(db, client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_user_turns_emails_off_and_back_to_default(world):
    # alice leads a project: the summary setting is hers to choose.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    page = client.get(URL)
    assert page.status_code == 200
    token = page.context["csrf_token"]

    response = client.post(
        URL, {"email_alerts": "off", "email_summary": "on", "csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert (world.alice.email_alerts, world.alice.email_summary) == (False, True)
    assert not world.alice.wants_alert_emails

    client.post(
        URL,
        {"email_alerts": "default", "email_summary": "default", "csrfmiddlewaretoken": str(token)},
    )
    world.alice.refresh_from_db()
    assert (world.alice.email_alerts, world.alice.email_summary) == (None, None)


def test_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    response = client.post(URL, {"email_alerts": "off", "email_summary": "off"})
    assert response.status_code == 403
    world.bob.refresh_from_db()
    assert world.bob.email_alerts is None


def test_bad_choice_is_a_clear_error_and_changes_nothing(world, client):
    client.force_login(world.bob)
    response = client.post(URL, {"email_alerts": "maybe", "email_summary": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors["email_alerts"]
    world.bob.refresh_from_db()
    assert (world.bob.email_alerts, world.bob.email_summary) == (None, None)


def test_page_shows_the_administrators_default(world, client, settings):
    settings.NOTIFICATION_DEFAULT_SUMMARY_EMAILS = False
    client.force_login(world.alice)
    html = client.get(URL).content.decode()
    assert 'value="default"' in html
    assert "csrfmiddlewaretoken" in html


def test_administrators_change_the_default_in_the_admin(world, admin_client):
    from core.models import NotificationDefaults, OutboundEmail
    from core.services.daily_check import run_deadline_check
    from tests.conftest import TODAY
    from tests.factories import TacheFactory

    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    world.alice.email_alerts = True  # alice chose; bob left the default
    world.alice.save()

    add = reverse("admin:core_notificationdefaults_add")
    policy = {"alerte_jours": "2, 1", "alerte_chef_aujourdhui": "on", "alerte_chef_retard": "on"}
    policy |= {"retard_repetition_jours": "1", "escalade_jours_ouvres": "5"}
    response = admin_client.post(
        add, {"summary_emails": "on", "calendrier": "france", **policy}
    )  # alert emails unticked
    assert response.status_code == 302
    assert admin_client.get(add).status_code == 403  # one row only

    run_deadline_check(today=TODAY)
    emailed = set(OutboundEmail.objects.values_list("to_address", flat=True))
    assert emailed == {world.alice.email}
    assert NotificationDefaults.current().summary_emails is True
    # bob's preferences page tells him what "default" now means.
    page = Client()
    page.force_login(world.bob)
    form = page.get(URL).context["form"]
    assert (
        dict(form.fields["email_alerts"].choices)["default"]
        == "Par défaut (actuellement désactivé)"
    )
