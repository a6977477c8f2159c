"""The pages around the alerts at the size's scale, through the real views with
Django's test client: the portfolio (its first page, its CSV and XLSX exports) as
the DSI, a project page with 10,000 tasks and its lead's dashboard.

The exports are measured as the request writes them, whatever the size (the
inline limit raised): above PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS a worker runs
the same writer (core.services.portfolio_export)."""

from __future__ import annotations

import statistics
import time
from typing import Any

REPEAT = 3
BIG_PROJECT_TASKS = 10_000  # owned by the project's members in turn


def _timed_get(client: Any, url: str) -> tuple[float, int]:
    """Seconds and bytes of a whole response, streamed ones read to the end."""
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return time.perf_counter() - started, len(body)


def _median(client: Any, url: str) -> tuple[float, int]:
    runs = [_timed_get(client, url) for _ in range(REPEAT)]
    return statistics.median(seconds for seconds, _ in runs), runs[-1][1]


def _big_project() -> int:
    """The first project, with at least BIG_PROJECT_TASKS tasks (added once per world)."""
    from scale_steps import TODAY
    from scale_world import execute, scalar

    projet = int(str(scalar("SELECT min(id) FROM core_projet")))
    have = int(str(scalar("SELECT count(*) FROM core_tache WHERE projet_id = %s", [projet])))
    if have < BIG_PROJECT_TASKS:
        execute(
            "INSERT INTO core_tache (projet_id, nom, description, responsable_id, statut, "
            "priorite, date_echeance, avancement, date_creation, date_modification, "
            "report_motif) "
            "WITH members AS (SELECT utilisateur_id, row_number() OVER (ORDER BY id) - 1 AS k, "
            "count(*) OVER () AS n FROM core_membreprojet WHERE projet_id = %s) "
            "SELECT %s, 'Grande tâche ' || j, '', m.utilisateur_id, 'A_FAIRE', 'NORMALE', "
            "%s::date + (j %% 90 - 30), 0, now(), now(), '' "
            "FROM generate_series(1, %s) j JOIN members m ON m.k = j %% m.n",
            [projet, projet, TODAY, BIG_PROJECT_TASKS - have],
        )
        execute("ANALYZE core_tache")
    return projet


def measure_pages(options: dict[str, Any]) -> dict[str, Any]:
    from django.test.utils import override_settings

    storages = {  # the pages link static files by their plain names (no collectstatic)
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS=10**7):
        return _measure()


def _portfolio_figures() -> dict[str, float]:
    """The morning run's portfolio part, timed: its first run (every project's
    figures, and the trend's seven past days written from the history), then a
    run of any later morning (the figures, and the one day a week back). Of the
    pages' day (the views count with the real date, not the alerts' TODAY)."""
    from django.utils import timezone

    from core.models import TendanceProjet
    from core.selectors.portfolio import trend_days
    from core.services.portfolio_figures import morning_refresh

    today = timezone.localdate()
    TendanceProjet.objects.all().delete()
    started = time.perf_counter()
    first = morning_refresh(today=today)
    first_seconds = time.perf_counter() - started
    TendanceProjet.objects.filter(jour=trend_days(today=today)[-2]).delete()
    started = time.perf_counter()
    later = morning_refresh(today=today)
    assert (first.trend_days, later.trend_days) == (7, 1), (first, later)
    return {"figures_first": first_seconds, "figures": time.perf_counter() - started}


def _measure() -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse

    from core.models import Projet, User

    projet = Projet.objects.select_related("chef_de_projet").get(pk=_big_project())
    dsi, _ = User.objects.get_or_create(username="bench-dsi", defaults={"is_superuser": True})
    client = Client()
    client.force_login(dsi)
    figures: dict[str, Any] = _portfolio_figures()
    for key, url in (
        ("portfolio", reverse("core:portfolio")),
        ("portfolio_csv", reverse("core:portfolio_csv")),
        ("portfolio_xlsx", reverse("core:portfolio_xlsx")),
        ("project", reverse("core:project_detail", args=[projet.pk])),
    ):
        figures[key], figures[f"{key}_bytes"] = _median(client, url)
    client.force_login(projet.chef_de_projet)
    figures["dashboard"], figures["dashboard_bytes"] = _median(client, reverse("core:dashboard"))
    figures["projects"] = Projet.objects.count()
    figures["seconds"] = figures["portfolio"]
    return figures
