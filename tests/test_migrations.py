"""Data migrations on real rows: what an upgraded installation keeps and loses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("core", "0004_adopt_unedited_beat_rows")]
AFTER = [("core", "0005_password_reset_without_secrets")]
STORED_LINK = "http://localhost:8000/comptes/reset/Mg/cxyz-0123456789abcdef/"


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest(transactional_db: None) -> Iterator[None]:
    yield
    call_command("migrate", verbosity=0)


def test_upgrading_scrubs_stored_reset_links_and_sent_bodies(back_to_latest):
    old = migrate(BEFORE)
    Email = old.get_model("core", "OutboundEmail")
    waiting = Email.objects.create(
        kind="OTHER", to_address="bob@dsi.example.org", subject="S", body_text=STORED_LINK
    )
    sent = Email.objects.create(
        kind="ALERTS", to_address="bob@dsi.example.org", subject="S", body_text="x", status="SENT"
    )
    pending = Email.objects.create(
        kind="ALERTS", to_address="bob@dsi.example.org", subject="S", body_text="x"
    )

    Email = migrate(AFTER).get_model("core", "OutboundEmail")
    rows = {row.pk: row for row in Email.objects.all()}

    assert (rows[waiting.pk].kind, rows[waiting.pk].body_text) == ("PASSWORD_RESET", "")
    assert rows[sent.pk].body_text == ""
    assert rows[pending.pk].body_text == "x"  # still to be sent: kept


def group_permissions() -> dict[str, list[str]]:
    return {
        group.name: sorted(
            f"{perm.content_type.app_label}.{perm.codename}" for perm in group.permissions.all()
        )
        for group in Group.objects.all()
    }


def test_the_two_groups_a_dsi_hands_out_survive_a_rollback(back_to_latest):
    migrate([("core", "0009_history_by_author")])
    call_command("migrate", verbosity=0)  # then post_migrate: it must find them

    groups = group_permissions()
    assert groups["DSI (portefeuille)"] == ["core.view_portfolio"]
    assert groups["Supervision"] == ["core.run_job", "core.view_supervision"]
    assert Permission.objects.filter(codename="run_job").count() == 1
    assert Permission.objects.get(codename="view_portfolio").name == (
        "Can view the whole portfolio"
    )
