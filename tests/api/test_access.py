"""Who reaches what through /api/v1/: the pages' rules, per role, at every endpoint.

404 for what the caller may not see (a stranger cannot tell a task exists), 403
for what they see but may not do; a task's owner may change its status, progress
and comment only (another field: 403, it is not theirs to change).
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from core.models import HistoriqueProjet, HistoriqueTache, JetonApi, NotificationTache, Tache
from core.services import api_tokens, portfolio_figures
from tests.api.conftest import DAY, bearer
from tests.conftest import TODAY
from tests.factories import NotificationFactory
from tests.web.conftest import NOW, client_for


def patch(client: Client, url: str, data: dict):
    return client.patch(url, json.dumps(data), content_type="application/json")


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def task_url(tache: Tache) -> str:
    return f"/api/v1/tasks/{tache.pk}/"


ENDPOINTS = [
    "/api/v1/projects/",
    "/api/v1/tasks/",
    "/api/v1/notifications/",
    "/api/v1/portfolio/",
    "/api/v1/portfolio/summary/",
    "/api/v1/schema/",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_without_a_token_every_endpoint_is_401_with_the_bearer_challenge(api, url):
    response = Client().get(url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Authentification requise" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer", "Bearer a b", "Bearer é"])
def test_a_wrong_or_malformed_token_is_401(api, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_token_and_an_inactive_user_are_refused(api, as_user):
    jeton = JetonApi.objects.get(utilisateur=api.bob)
    assert api_tokens.revoke_token(user=api.bob, token_id=jeton.pk)
    assert as_user("bob").get("/api/v1/tasks/").status_code == 401
    api.alice.is_active = False
    api.alice.save()
    assert as_user("alice").get("/api/v1/tasks/").status_code == 401


def test_someone_else_cannot_revoke_a_token(api, as_user):
    jeton = JetonApi.objects.get(utilisateur=api.bob)
    assert not api_tokens.revoke_token(user=api.charlie, token_id=jeton.pk)
    assert as_user("bob").get("/api/v1/tasks/").status_code == 200


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_sees_the_projects_and_tasks_the_pages_show(api, as_user):
    assert ids(as_user("bob").get("/api/v1/projects/")) == {api.projet.pk}
    assert ids(as_user("charlie").get("/api/v1/projects/")) == {api.autre.pk}
    assert ids(as_user("dora").get("/api/v1/projects/")) == {api.projet.pk, api.autre.pk}
    assert ids(as_user("bob").get("/api/v1/tasks/")) == {api.bobs.pk, api.alices.pk}
    assert ids(as_user("charlie").get("/api/v1/tasks/")) == {api.charlies.pk}
    assert len(ids(as_user("dora").get("/api/v1/tasks/"))) == 3


def test_a_stranger_gets_404_on_another_projects_task_and_project(api, as_user):
    charlie = as_user("charlie")
    assert charlie.get(task_url(api.bobs)).status_code == 404
    assert patch(charlie, task_url(api.bobs), {"avancement": 50}).status_code == 404
    assert charlie.get(f"/api/v1/projects/{api.projet.pk}/").status_code == 404
    created = post(charlie, "/api/v1/tasks/", {"projet": api.projet.pk, "nom": "Intrus"})
    assert created.status_code == 404
    assert charlie.get(task_url(api.bobs)).json() == charlie.get("/api/v1/tasks/999999/").json()
    assert charlie.get(f"/api/v1/tasks/{2**70}/").status_code == 404


def test_a_member_sees_others_tasks_but_cannot_patch_them(api, as_user):
    bob = as_user("bob")
    assert bob.get(task_url(api.alices)).status_code == 200
    response = patch(bob, task_url(api.alices), {"avancement": 50})
    assert response.status_code == 403
    assert "responsable" in response.json()["detail"]
    assert post(bob, "/api/v1/tasks/", {"projet": api.projet.pk, "nom": "X"}).status_code == 403


def test_the_owner_patches_status_progress_and_comment_only(api, as_user):
    bob = as_user("bob")
    response = patch(bob, task_url(api.bobs), {"statut": "EN_COURS", "avancement": 40})
    assert response.status_code == 200, response.content
    assert (response.json()["statut"], response.json()["avancement"]) == ("EN_COURS", 40)
    refused = patch(bob, task_url(api.bobs), {"avancement": 50, "date_echeance": "2030-01-01"})
    assert refused.status_code == 403
    assert "date_echeance" in refused.json()["detail"]
    api.bobs.refresh_from_db()
    assert (api.bobs.avancement, api.bobs.date_echeance) == (40, TODAY + 3 * DAY)


def test_the_owners_rules_are_the_pages(api, as_user):
    bob = as_user("bob")
    blocked = patch(bob, task_url(api.bobs), {"statut": "BLOQUEE"})
    assert blocked.status_code == 400
    assert blocked.json()["errors"] == {"commentaire": ["Indiquez ce qui bloque la tâche."]}
    cancelled = patch(bob, task_url(api.bobs), {"statut": "ANNULEE"})
    assert cancelled.status_code == 400 and "statut" in cancelled.json()["errors"]
    too_far = patch(bob, task_url(api.bobs), {"avancement": 101})
    assert too_far.status_code == 400 and "avancement" in too_far.json()["errors"]
    reported = patch(bob, task_url(api.bobs), {"statut": "BLOQUEE", "commentaire": "VPN"})
    assert reported.status_code == 200


def test_the_lead_patches_every_field_and_creates_tasks(api, as_user):
    alice = as_user("alice")
    changes = {
        "nom": "Recetter le SSO",
        "description": "Avec la DSI",
        "responsable": api.alice.pk,
        "date_echeance": (TODAY + 10 * DAY).isoformat(),
        "priorite": "HAUTE",
        "etape": None,
        "statut": "EN_PAUSE",
        "avancement": 30,
        "commentaire": "Décalée après la recette",
    }
    response = patch(alice, task_url(api.bobs), changes)
    assert response.status_code == 200, response.content
    shown = response.json()
    assert shown["responsable"]["id"] == api.alice.pk and shown["etape"] is None
    assert (shown["nom"], shown["priorite"], shown["statut"]) == (
        "Recetter le SSO",
        "HAUTE",
        "EN_PAUSE",
    )
    created = post(
        alice,
        "/api/v1/tasks/",
        {"projet": api.projet.pk, "nom": "Nouvelle", "responsable": api.bob.pk},
    )
    assert created.status_code == 201, created.content
    tache = Tache.objects.get(pk=created.json()["id"])
    assert (tache.projet, tache.responsable, tache.statut) == (api.projet, api.bob, "A_FAIRE")
    assert tache.historique.filter(champ=HistoriqueTache.Champ.CREATION).count() == 1


def test_the_leads_rules_are_the_pages_form(api, as_user):
    alice = as_user("alice")
    stranger = patch(alice, task_url(api.bobs), {"responsable": api.charlie.pk})
    assert stranger.status_code == 400
    assert "responsable" in stranger.json()["errors"]
    pushed = patch(alice, task_url(api.bobs), {"date_echeance": (TODAY + 9 * DAY).isoformat()})
    assert pushed.json()["errors"] == {"commentaire": ["Dites pourquoi l'échéance est repoussée."]}
    past = {"projet": api.projet.pk, "nom": "Passée", "date_echeance": "2020-01-01"}
    assert "date_echeance" in post(alice, "/api/v1/tasks/", past).json()["errors"]
    confirmed = post(alice, "/api/v1/tasks/", {**past, "confirmer_echeance_passee": True})
    assert confirmed.status_code == 201
    other_phase = patch(alice, task_url(api.charlies), {"nom": "x"})
    assert other_phase.status_code == 404


def test_the_dsi_reads_everything_and_changes_nothing(api, as_user):
    dora = as_user("dora")
    assert dora.get(task_url(api.charlies)).status_code == 200
    assert patch(dora, task_url(api.bobs), {"avancement": 10}).status_code == 403
    assert post(dora, "/api/v1/tasks/", {"projet": api.projet.pk, "nom": "X"}).status_code == 403


def test_the_portfolio_is_the_dsis_with_the_pages_figures(api, as_user):
    assert as_user("bob").get("/api/v1/portfolio/").status_code == 403
    response = as_user("dora").get("/api/v1/portfolio/")
    assert response.status_code == 200
    rows = {row["projet"]["code"]: row for row in response.json()["results"]}
    assert rows["portail"]["taches_en_retard"] == 1 and rows["portail"]["taches_ouvertes"] == 2
    assert len(rows["portail"]["tendance_retards"]) == 8
    first = as_user("dora").get("/api/v1/portfolio/?statut=TERMINE")
    assert first.json()["count"] == 0
    assert as_user("dora").get("/api/v1/portfolio/?chef=abc").status_code == 400


def test_the_portfolio_summary_is_the_pages_row_for_the_filters(api, as_user):
    assert as_user("bob").get("/api/v1/portfolio/summary/").status_code == 403
    everything = as_user("dora").get("/api/v1/portfolio/summary/").json()
    alices = as_user("dora").get(f"/api/v1/portfolio/summary/?chef={api.alice.pk}").json()

    assert (alices["taches_ouvertes"], alices["taches_en_retard"]) == (2, 1)
    assert everything["taches_ouvertes"] == alices["taches_ouvertes"] + 1  # charlie's task
    assert len(everything["tendance_retards"]) == 8
    assert everything["tendance_retards"][-1] == everything["taches_en_retard"]


def test_the_task_filters(api, as_user):
    bob = as_user("bob")
    assert ids(bob.get("/api/v1/tasks/?owner=me")) == {api.bobs.pk}
    assert ids(bob.get(f"/api/v1/tasks/?owner={api.alice.pk}")) == {api.alices.pk}
    assert ids(bob.get(f"/api/v1/tasks/?project={api.autre.pk}")) == set()
    Tache.objects.filter(pk=api.bobs.pk).update(statut="BLOQUEE")
    assert ids(bob.get("/api/v1/tasks/?status=BLOQUEE")) == {api.bobs.pk}
    assert ids(bob.get("/api/v1/tasks/?status=BLOQUEE,A_FAIRE")) == {api.bobs.pk, api.alices.pk}
    assert ids(bob.get("/api/v1/tasks/?status=BLOQUEE&status=A_FAIRE")) == {
        api.bobs.pk,
        api.alices.pk,
    }
    assert ids(bob.get(f"/api/v1/tasks/?due_before={TODAY.isoformat()}")) == {api.alices.pk}
    assert ids(bob.get(f"/api/v1/tasks/?due_after={TODAY.isoformat()}")) == {api.bobs.pk}
    refused = bob.get("/api/v1/tasks/?status=FINI&due_before=demain")
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"status", "due_before"}


def test_pages_are_bounded(api, as_user):
    bob = as_user("bob")
    page = bob.get("/api/v1/tasks/?page_size=1").json()
    assert len(page["results"]) == 1 and page["count"] == 2 and page["next"]
    assert len(bob.get("/api/v1/tasks/?page_size=100000").json()["results"]) == 2
    assert bob.get("/api/v1/tasks/?page=99").status_code == 404


def test_notifications_are_the_callers_own(api, as_user):
    bob, charlie = as_user("bob"), as_user("charlie")
    mine = NotificationTache.objects.get(destinataire=api.bob)
    theirs = NotificationTache.objects.get(destinataire=api.alice)
    assert ids(bob.get("/api/v1/notifications/")) == {mine.pk}
    assert post(bob, f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert post(charlie, f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    read = post(bob, f"/api/v1/notifications/{mine.pk}/read/")
    assert read.status_code == 200 and read.json()["lue"] is True
    assert ids(bob.get("/api/v1/notifications/?unread=true")) == set()
    NotificationFactory(destinataire=api.bob, tache=api.bobs)
    assert post(bob, "/api/v1/notifications/read-all/").json() == {"marquees": 1, "reste": False}
    theirs.refresh_from_db()
    assert not theirs.lue


def snapshot() -> dict[str, list[dict]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model is not Session
    }


def test_a_get_changes_nothing(api, as_user):
    dora, bob = as_user("dora"), as_user("bob")
    for client in (dora, bob):
        client.get("/api/v1/projects/")  # the token's last use, written once a minute
    # The portfolio's figures of the day: a cache the morning run fills, or else
    # the first read of the day.
    portfolio_figures.ensure_fresh(today=timezone.localdate())
    before = snapshot()
    for url in [*ENDPOINTS, task_url(api.bobs), f"/api/v1/projects/{api.projet.pk}/"]:
        dora.get(url)
        bob.get(url)
    bob.get("/api/v1/notifications/read-all/")  # a GET on a POST endpoint: 405
    assert snapshot() == before


def test_the_last_use_is_written_at_most_once_a_minute(api, as_user, time_machine):
    time_machine.move_to(NOW, tick=False)
    jeton = JetonApi.objects.get(utilisateur=api.bob)
    assert jeton.derniere_utilisation is None
    as_user("bob").get("/api/v1/projects/")
    jeton.refresh_from_db()
    first = jeton.derniere_utilisation
    assert first is not None
    time_machine.shift(30)
    as_user("bob").get("/api/v1/projects/")
    jeton.refresh_from_db()
    assert jeton.derniere_utilisation == first
    time_machine.shift(31)
    as_user("bob").get("/api/v1/projects/")
    jeton.refresh_from_db()
    assert jeton.derniere_utilisation > first


def history(tache: Tache) -> list[tuple]:
    return list(
        tache.historique.order_by("champ").values_list(
            "champ",
            "auteur",
            "ancien_statut",
            "nouveau_statut",
            "ancien_avancement",
            "nouvel_avancement",
            "motif",
        )
    )


def test_an_api_update_writes_the_history_the_page_writes(api, as_user):
    twin = Tache.objects.get(pk=api.bobs.pk)
    twin.pk = None
    twin.save()
    page = client_for(api.bob).post(
        f"/taches/{twin.pk}/avancement/",
        {"statut": "BLOQUEE", "avancement": 20, "commentaire": "Attente VPN"},
    )
    assert page.status_code == 302
    response = patch(
        as_user("bob"),
        task_url(api.bobs),
        {"statut": "BLOQUEE", "avancement": 20, "commentaire": "Attente VPN"},
    )
    assert response.status_code == 200
    assert history(api.bobs) == history(twin) != []
    # The lead told of the blockage, as from the page.
    notes = NotificationTache.objects.filter(destinataire=api.alice, type_notification="BLOCAGE")
    assert sorted(notes.values_list("tache", flat=True)) == sorted([twin.pk, api.bobs.pk])


def test_the_update_limits_answer_429_in_french(api, as_user, settings):
    settings.TASK_UPDATE_LIMIT = 1
    bob = as_user("bob")
    assert patch(bob, task_url(api.bobs), {"avancement": 10}).status_code == 200
    refused = patch(bob, task_url(api.bobs), {"avancement": 20})
    assert refused.status_code == 429
    assert "Trop de mises à jour" in refused.json()["detail"]
    api.bobs.refresh_from_db()
    assert api.bobs.avancement == 10


def test_the_throttle_counts_per_token_and_answers_429(api, as_user, settings):
    settings.API_THROTTLE_RATE = "2/min"
    cache.clear()
    bob = as_user("bob")
    assert [bob.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 429]
    refused = bob.get("/api/v1/projects/")
    assert "Trop de requêtes" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    assert as_user("alice").get("/api/v1/projects/").status_code == 200  # her own count


def test_a_session_may_read_but_writes_need_the_csrf_token(api):
    browser = client_for(api.bob, enforce_csrf_checks=True)
    assert browser.get("/api/v1/tasks/").status_code == 200
    refused = patch(browser, task_url(api.bobs), {"avancement": 10})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    # A token needs no CSRF token: it is not sent by a browser on its own.
    tokened = bearer(api.tokens["bob"])
    tokened.handler.enforce_csrf_checks = True
    assert patch(tokened, task_url(api.bobs), {"avancement": 10}).status_code == 200


def test_errors_are_json_in_french(api, as_user):
    bob = as_user("bob")
    bad_json = bob.patch(task_url(api.bobs), "{", content_type="application/json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["detail"]
    form = bob.patch(task_url(api.bobs), "avancement=3", content_type="text/plain")
    assert form.status_code == 415
    put = bob.put(task_url(api.bobs), "{}", content_type="application/json")
    assert put.status_code == 405 and put.json()["detail"] == "Cette méthode n'est pas permise ici."
    assert bob.options(task_url(api.bobs)).status_code == 405  # the document describes it
    unknown = bob.get("/api/v1/taches/")
    assert unknown.status_code == 404 and unknown.json()["detail"]


def test_the_lead_patches_the_project_as_on_its_page_and_it_is_in_its_history(api, as_user):
    url = f"/api/v1/projects/{api.projet.pk}/"
    changes = {
        "statut": "SUSPENDU",
        "date_fin_prevue": "2027-06-30",
        "commentaire": "Gel budgétaire",
    }

    response = patch(as_user("alice"), url, changes)

    assert response.status_code == 200, response.content
    assert (response.json()["statut"], response.json()["date_fin_prevue"]) == (
        "SUSPENDU",
        "2027-06-30",
    )
    rows = HistoriqueProjet.objects.filter(projet=api.projet)
    assert {(row.champ, row.nouvelle_valeur, row.motif) for row in rows} == {
        ("statut", "SUSPENDU", "Gel budgétaire"),
        ("date_fin_prevue", "2027-06-30", "Gel budgétaire"),
    }
    assert all(row.auteur == api.alice for row in rows)
    # The page's rules: an end before the start, in French, nothing saved.
    api.projet.refresh_from_db()
    backwards = patch(as_user("alice"), url, {"date_debut": "2027-07-01"})
    assert backwards.status_code == 400
    assert "date_fin_prevue" in backwards.json()["errors"]
    assert "2027" in backwards.json()["errors"]["date_fin_prevue"][0]
    # The code stays as created; a PUT is not offered.
    assert patch(as_user("alice"), url, {"code": "autre"}).json()["code"] == api.projet.code
    assert as_user("alice").put(url, "{}", content_type="application/json").status_code == 405


def test_only_the_lead_patches_a_project(api, as_user):
    url = f"/api/v1/projects/{api.projet.pk}/"
    assert patch(as_user("bob"), url, {"nom": "Pris"}).status_code == 403  # a member
    assert patch(as_user("dora"), url, {"nom": "Pris"}).status_code == 403  # the DSI reads
    assert patch(as_user("charlie"), url, {"nom": "Pris"}).status_code == 404  # a stranger
    api.projet.refresh_from_db()
    assert api.projet.nom != "Pris"
    assert not HistoriqueProjet.objects.exists()
