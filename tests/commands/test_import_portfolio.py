"""``manage.py import_portfolio FILE [--dry-run]``: French lines, a non-zero exit on a
refused file (every bad line on stderr), nothing written."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command, get_commands, load_command_class

from core.models import HistoriqueTache, Tache
from tests.services.test_portfolio_import import EXCEL_CSV, HEADER, plain, write

pytestmark = pytest.mark.django_db


def operator(*args: str) -> int:
    """The command as cron or a person runs it (``run_from_argv``); its exit code."""
    command = load_command_class(get_commands()["import_portfolio"], "import_portfolio")
    try:
        command.run_from_argv(["manage.py", "import_portfolio", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def output(*args: str) -> str:
    out = io.StringIO()
    call_command("import_portfolio", *args, stdout=out)
    return plain(out.getvalue())


def test_the_command_imports_then_a_rerun_changes_nothing(world, tmp_path):
    path = str(write(tmp_path, EXCEL_CSV))
    first = output(path, "--auteur", "ALICE")
    assert "Import de « portefeuille.csv » : 4 lignes lues." in first
    assert "Tâches : 4 créée(s), 0 modifiée(s)." in first
    assert "Un import n'envoie aucune notification d'événement" in first
    assert "Ligne 2 : projet « Nouveau CRM » (crm) créé." in first
    assert HistoriqueTache.objects.filter(auteur=world.alice).count() == 4
    again = output(path)
    assert "Projets : 0 créé(s), 0 modifié(s)." in again
    assert "Tâches : 0 créée(s), 0 modifiée(s)." in again
    assert "Premiers changements" not in again


def test_the_dry_run_writes_nothing(world, tmp_path):
    text = output(str(write(tmp_path, EXCEL_CSV)), "--dry-run")
    assert "(simulation : rien n'est écrit)" in text and "Tâches : 4 créée(s)" in text
    assert Tache.objects.count() == 0


# run_from_argv closes the connections as cron's process would: not in a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_a_refused_file_exits_non_zero_naming_every_bad_line(world, tmp_path, capsys):
    text = (
        f"{HEADER}\n"
        "portail;Refonte du portail;alice;;Bon;bob;01/12/2026;A_FAIRE;\n"
        "portail;Refonte du portail;alice;;Inconnu;zoe;01/12/2026;A_FAIRE;\n"
        "portail;Refonte du portail;alice;;Date;bob;31/02/2026;A_FAIRE;\n"
    )
    assert operator(str(write(tmp_path, text))) == 1
    err = plain(capsys.readouterr().err)
    assert "Ligne 3 : colonne « responsable » : aucun compte « zoe »." in err
    assert "Ligne 4 : colonne « date_echeance » : la date « 31/02/2026 » n'existe pas." in err
    assert err.strip().endswith("Fichier refusé : 2 erreurs, rien n'a été importé.")
    assert "Traceback" not in err
    assert Tache.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_missing_file_or_author_is_one_line(world, tmp_path, capsys):
    assert operator(str(tmp_path / "absent.csv")) == 1
    assert operator(str(write(tmp_path, EXCEL_CSV)), "--auteur", "zoe") == 1
    err = plain(capsys.readouterr().err).splitlines()
    assert err == [f"Aucun fichier {tmp_path / 'absent.csv'}.", "Aucun compte actif « zoe »."]
