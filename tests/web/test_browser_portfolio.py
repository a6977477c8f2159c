"""In a real browser: the DSI's portfolio draws the trend of a known history as a
bar chart (inline SVG, within the Content-Security-Policy) with its figures, at
1280 and 390 px, and a project opens in the application, read only."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from core.models import Tache
from core.services import task_updates
from tests.factories import PORTFOLIO, ProjetFactory, UserFactory, grant
from tests.web.test_browser import browser_page, no_broker, shoot, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

DAY = datetime.timedelta(days=1)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


@pytest.fixture
def history(transactional_db):
    """Three tasks whose lateness over the last eight weeks is known (T: today; the
    weeks end on T-49, T-42, …, T)."""
    today = timezone.localdate()
    lead = UserFactory(username="alice", first_name="Alice", last_name="Martin")
    projet = ProjetFactory(nom="Refonte du portail", code="portail", chef_de_projet=lead)

    def create(created: int, due: int) -> Tache:
        with time_machine.travel(_at(today - created * DAY), tick=False):
            tache = Tache(projet=projet, nom=f"Due J{-due}", date_echeance=today - due * DAY)
            return task_updates.create_task(tache=tache, author=lead, today=today - created * DAY)

    create(60, 52)  # late at every week's end:                1 1 1 1 1 1 1 1
    done = create(60, 40)  # late from T-35, done on T-20:      0 0 1 1 1 0 0 0
    with time_machine.travel(_at(today - 20 * DAY), tick=False):
        task_updates.mark_done(tache_id=done.pk, author=lead, today=today - 20 * DAY)
    create(10, 12)  # created already late on T-10:             0 0 0 0 0 0 1 1
    grant(UserFactory(username="admin", first_name="Admin", last_name="DSI"), *PORTFOLIO)
    return {"projet": projet, "trend": ["1", "1", "2", "2", "2", "1", "2", "2"]}


def test_the_portfolio_draws_the_trend_and_opens_the_project(
    live_server,
    history,
    browser_page,  # noqa: F811
    no_broker,  # noqa: F811
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "admin")

    page.goto(f"{base}/portefeuille/")
    chart = page.locator("#portfolio-trend svg")
    chart.wait_for()
    assert chart.locator("rect").count() == 8
    assert chart.locator("text.value").all_text_contents() == history["trend"]
    assert "Tâches en retard sur les 8 dernières semaines" in chart.get_attribute("aria-label")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200
    page.click("#portfolio-trend summary")  # the figures, as a table
    assert page.locator(".trend-figures tbody td").all_inner_texts() == history["trend"]
    shoot(page, "portfolio")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    box = page.locator("#portfolio-trend svg").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    shoot(page, "portfolio_mobile")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.click(f"#portfolio >> text={history['projet'].nom}")
    page.wait_for_selector("#read-only")
    assert page.url.endswith(f"/projets/{history['projet'].pk}/")
    assert page.inner_text("h1") == "Refonte du portail"
