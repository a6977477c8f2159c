"""RGAA 4.1 / WCAG 2.1 AA in a real browser: axe-core on every page at 1280 and 390 px,
the keyboard path (skip link, focus after an htmx swap, the live region), and the Nu
HTML Checker on the same pages.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from core.models import Etape, User
from tests.factories import EtapeFactory, NotificationFactory, TacheFactory, grant
from tests.web import test_browser
from tests.web.test_browser import sign_in
from tests.web.web_tools import java, package_file

browser_page = test_browser.browser_page
demo = test_browser.demo
no_broker = test_browser.no_broker


@pytest.fixture
def world(demo):
    """The browser tests' world, with a read notification and a blocked task (their
    colours are the ones most likely to lack contrast)."""
    bob = User.objects.get(username="bob")
    NotificationFactory(destinataire=bob, tache=demo["late"], lue=True, titre="Déjà lue")
    TacheFactory(projet=demo["projet"], nom="Bloquée", responsable=bob, statut="BLOQUEE")
    grant(User.objects.get(username="admin"), "core.add_projet")  # the import page
    return demo


pytestmark = pytest.mark.browser  # the Nu HTML Checker is a process too (Java)

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  }));
}"""


# Every id an aria-describedby names exists in the page.
MISSING_DESCRIPTIONS = """() => [...document.querySelectorAll("[aria-describedby]")]
  .flatMap((e) => e.getAttribute("aria-describedby").split(/\\s+/))
  .filter((id) => !document.getElementById(id))
  .map((id) => ({id: "aria-describedby", help: `no element #${id}`}))"""
# WCAG 1.4.11: a field's border against the page, at least 3:1.
BORDER_CONTRAST = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const field = document.querySelector("input[type=text], textarea, select");
  const [a, b] = [lum(getComputedStyle(field).borderTopColor), lum("rgb(255, 255, 255)")];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
WIDER_THAN_320 = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > 320)
  .map((e) => `${e.tagName}.${e.className}`).slice(0, 8)"""


def pages(demo: dict) -> dict[str | None, list[str]]:
    """Every page of the application, by who opens it (None: signed out)."""
    projet, late = demo["projet"].pk, demo["late"].pk
    task = f"/taches/{late}"
    etape = Etape.objects.filter(projet_id=projet).order_by("ordre").first()
    if etape is None:  # a world without phases: one, for the phase pages
        etape = EtapeFactory(projet=demo["projet"], nom="Cadrage", ordre=1)
    phase = f"/etapes/{etape.pk}"
    bob = User.objects.get(username="bob").pk
    return {
        None: [
            "/comptes/login/",
            "/comptes/password_reset/",
            "/comptes/password_reset/done/",
            "/comptes/reset/MQ/expired-token/",
            "/comptes/reset/done/",
        ],
        "bob": [
            "/",
            "/notifications/",
            "/projets/",
            f"/projets/{projet}/",
            f"{task}/",
            f"{task}/terminer/",
            f"{task}/bloquer/",
            f"{task}/historique/",
            f"{task}/suspendre-alertes/",
            f"/projets/{projet}/historique/",
            "/preferences/",
            "/api/v1/docs/",  # our own page, read from the OpenAPI document
            "/absences/",
            "/preferences/canaux/",
            "/comptes/password_change/",
            "/comptes/password_change/done/",
            "/supervision/",  # 403
            "/taches/999999/",  # 404
        ],
        "alice": [
            "/",
            f"/projets/{projet}/",
            f"/projets/{projet}/taches/nouvelle/",
            f"/projets/{projet}/alertes/",
            f"/projets/{projet}/modifier/",
            f"/projets/{projet}/passation/",
            f"/projets/{projet}/etapes/nouvelle/",
            f"{phase}/modifier/",
            f"{phase}/supprimer/",
            f"/projets/{projet}/membres/ajouter/",
            f"/projets/{projet}/membres/{bob}/retirer/",
            f"/projets/{projet}/canaux/",
            f"{task}/modifier/",
            "/preferences/",
        ],
        "admin": [
            "/projets/nouveau/",
            "/portefeuille/",
            "/portefeuille/exports/",
            "/notifications/",  # an export's notification (test_french_everywhere's world)
            "/portefeuille/import/",
            "/supervision/",
            "/supervision/?job=check_task_deadlines&queued=not-started",  # a run pending
        ],
    }


def axe_violations(page, axe: str) -> list[dict]:
    page.evaluate(axe)  # through the DevTools protocol: the page's CSP does not apply
    return page.evaluate(RUN_AXE, WCAG_AA)


def sign_out(page, base: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/comptes/login/")


def test_axe_finds_no_wcag_aa_violation_on_any_page(live_server, world, browser_page, no_broker):
    page, base = browser_page, live_server.url
    axe = package_file("axe-core").read_text(encoding="utf-8")
    found: dict[str, list[dict]] = {}
    for username, paths in pages(world).items():
        sign_out(page, base)
        if username:
            sign_in(page, base, username)
        for path in paths:
            for viewport in VIEWPORTS:
                page.set_viewport_size(viewport)
                page.goto(f"{base}{path}")
                violations = axe_violations(page, axe) + page.evaluate(MISSING_DESCRIPTIONS)
                if violations:
                    found[f"{username} {path} @{viewport['width']}"] = violations
    # Error states: a refused sign-in, a form sent empty.
    sign_out(page, base)
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    found.update(errors_of(page, axe, "refused sign-in"))
    sign_in(page, base, "bob")
    page.goto(f"{base}/taches/{world['late'].pk}/bloquer/")
    page.click("#confirm-block-button")
    page.wait_for_selector(".errorlist")
    assert page.title().startswith("Erreur\u00a0: ")
    found.update(errors_of(page, axe, "block form sent empty"))
    page.click(".account button")  # sign out: the sign-in page with its message
    page.wait_for_selector(".messages")
    found.update(errors_of(page, axe, "signed out"))
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def errors_of(page, axe: str, state: str) -> dict[str, list[dict]]:
    violations = axe_violations(page, axe)
    return {state: violations} if violations else {}


def test_keyboard_skip_link_first_then_focus_kept_after_marking_read(
    live_server, demo, browser_page, no_broker
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "bob")
    page.goto(f"{base}/notifications/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    assert page.evaluate("document.activeElement.textContent.trim()") == "Aller au contenu"
    assert page.is_visible("#skip-link")  # shown once focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible :focus-visible ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    row = page.locator(".notification.soon")
    row_id = row.get_attribute("id")
    row.locator("[data-action=read]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#{row_id}.read")
    # The pressed button is gone with the swap: the focus lands on the row's link,
    # never on <body>, and the live region says what happened.
    page.wait_for_function(f"document.activeElement.closest('#{row_id}') !== null")
    assert page.evaluate("document.activeElement.tagName") == "A"
    assert page.inner_text("#live-region") == "Notification marquée comme lue."


def test_phone_layout_targets_order_and_width(live_server, world, browser_page):
    """44 px touch targets, the project's tasks first, no sideways scroll at 320 px,
    and field borders of 3:1."""
    page, base = browser_page, live_server.url
    sign_in(page, base, "bob")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/notifications/")
    heights = page.eval_on_selector_all(
        ".notification .btn", "(all) => all.map((e) => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights
    page.goto(f"{base}/projets/{world['projet'].pk}/")
    tasks_top = page.locator("#taches").bounding_box()["y"]
    assert tasks_top < page.locator("ol.phases").bounding_box()["y"]
    page.goto(f"{base}/taches/{world['late'].pk}/")
    assert page.evaluate(BORDER_CONTRAST) >= 3
    sign_out(page, base)
    sign_in(page, base, "alice")
    page.set_viewport_size({"width": 320, "height": 700})
    for path in (f"/taches/{world['late'].pk}/", f"/projets/{world['projet'].pk}/", "/"):
        page.goto(f"{base}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width} px wide: {page.evaluate(WIDER_THAN_320)}"


def test_the_nu_html_checker_finds_no_error(world, tmp_path: Path):
    vnu = package_file("vnu-jar")
    files = []
    for username, paths in pages(world).items():
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        for n, path in enumerate(paths):
            html = client.get(path).content
            slug = re.sub(r"\W", "_", path.strip("/")) or "home"
            name = f"{username}-{n}-{slug}.html"
            (tmp_path / name).write_bytes(html)
            files.append(str(tmp_path / name))
    command = [java(), "-jar", str(vnu), "--errors-only", "--format", "json", *files]
    report = json.loads(subprocess.run(command, capture_output=True, text=True).stderr)
    errors = [
        f"{Path(m['url']).name}:{m.get('lastLine')}: {m['message']}" for m in report["messages"]
    ]
    assert errors == [], "\n".join(errors)
