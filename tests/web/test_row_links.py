"""The tags of list rows: links (``{% path_to %}``) are the URLs ``{% url %}`` would
give; a due date says when it is late (``{% due_date %}``)."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.urls import get_resolver, reverse, set_script_prefix

from core.models import Tache
from core.paths import _one_id_pattern

ONE_ID_URLS = sorted(
    f"core:{name}"
    for name, patterns in get_resolver("core.urls").reverse_dict.items()
    if isinstance(name, str) and [params for _, params in patterns[0]] == [["pk"]]
)
ROW_LINK = Template("{% load governance %}{% path_to name pk %}")


def test_every_one_id_url_of_the_site_is_covered():
    assert {"core:task_detail", "core:project_detail", "core:notification_open"} <= set(ONE_ID_URLS)


@pytest.mark.parametrize("name", ONE_ID_URLS)
@pytest.mark.parametrize("pk", [1, 42, 987654321, 10**12])
def test_a_row_link_is_what_reverse_gives(name, pk):
    assert ROW_LINK.render(Context({"name": name, "pk": pk})) == reverse(name, args=[pk])


def test_a_site_served_under_a_sub_path_keeps_it_in_row_links():
    """Behind a proxy at /gouvernance/ (SCRIPT_NAME), links keep the prefix; the
    same process serving at / afterwards does not."""
    _one_id_pattern.cache_clear()
    try:
        set_script_prefix("/gouvernance/")
        context = Context({"name": "core:task_detail", "pk": 7})
        assert ROW_LINK.render(context) == "/gouvernance/taches/7/"
        set_script_prefix("/")
        assert ROW_LINK.render(context) == "/taches/7/"
    finally:
        set_script_prefix("/")


def test_an_id_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        ROW_LINK.render(Context({"name": "core:task_detail", "pk": "7/../admin"}))


TODAY = datetime.date(2026, 11, 25)
DUE_DATE = Template("{% load governance %}{% due_date tache today %}")


@pytest.mark.parametrize(
    ("due", "statut", "shown"),
    [
        (
            datetime.date(2026, 11, 20),
            Tache.Statut.EN_COURS,
            '<span class="pill late">20/11/2026 · en retard</span>',
        ),
        (
            TODAY,
            Tache.Statut.A_FAIRE,
            '<span class="pill today">25/11/2026 · aujourd&#x27;hui</span>',
        ),
        (datetime.date(2026, 11, 20), Tache.Statut.TERMINEE, "20/11/2026"),
        (datetime.date(2026, 12, 1), Tache.Statut.BLOQUEE, "01/12/2026"),
        (None, Tache.Statut.A_FAIRE, '<span class="muted">—</span>'),
    ],
)
def test_a_due_date_is_flagged_only_while_the_task_is_open(due, statut, shown):
    tache = Tache(date_echeance=due, statut=statut)
    assert DUE_DATE.render(Context({"tache": tache, "today": TODAY})) == shown
