"""The portfolio import: Excel's CSV and XLSX, idempotent, all or nothing, in history."""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import (
    Etape,
    HistoriqueProjet,
    HistoriqueTache,
    MembreProjet,
    NotificationTache,
    Projet,
    Tache,
)
from core.services.portfolio_import import import_portfolio
from core.services.portfolio_template import template_csv
from tests.conftest import TODAY, World
from tests.factories import (
    EtapeFactory,
    MembreProjetFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HEADER = "code_projet;projet;chef_de_projet;etape;tache;responsable;date_echeance;statut;priorite"
# As Excel in France saves « CSV UTF-8 »: a BOM, semicolons, CRLF, DD/MM/YYYY,
# a quoted cell holding the separator, French labels, headers with accents and capitals.
EXCEL_CSV = (
    "\ufeffCode projet;Projet;Chef de projet;Étape;Tâche;Responsable;Date échéance;Statut;"
    "Priorité;Date début projet;Date fin projet\r\n"
    "crm;Nouveau CRM;alice;Cadrage;Recueillir les besoins;bob;15/12/2026;À faire;Haute;"
    "01/12/2026;30/06/2027\r\n"
    'crm;Nouveau CRM;alice;Cadrage;"Choisir l\'éditeur; signer";Charlie@dsi.example.org;'
    "20/12/2026;en cours;;;\r\n"
    "crm;Nouveau CRM;alice;Réalisation;Paramétrer;bob;31/01/2027;Bloquée;critique;;\r\n"
    "crm;Nouveau CRM;alice;;Former les équipes;bob;15/02/2027;A_FAIRE;;;\r\n"
)


def write(tmp_path: Path, text: str, name: str = "portefeuille.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def run(path: Path, *, dry_run: bool = False, author=None, **kwargs):
    return import_portfolio(
        path=path, file_name=path.name, author=author, dry_run=dry_run, today=TODAY, **kwargs
    )


def plain(text: str) -> str:
    """French typography's no-break spaces as plain ones, to compare sentences."""
    return text.replace("\u00a0", " ")


def snapshot() -> dict[str, int]:
    models = (Projet, Etape, Tache, HistoriqueTache, HistoriqueProjet, MembreProjet)
    return {model.__name__: model.objects.count() for model in models}


def test_an_excel_csv_creates_projects_phases_tasks_members_and_history(world: World, tmp_path):
    result = run(write(tmp_path, EXCEL_CSV), author=world.alice)
    assert result.ok, result.errors
    counts = result.counts
    assert (counts.projects_created, counts.phases_created, counts.tasks_created) == (1, 2, 4)
    assert counts.members_added == 2  # bob and charlie; alice leads
    projet = Projet.objects.get(code="crm")
    assert projet.chef_de_projet == world.alice
    assert (projet.date_debut, projet.date_fin_prevue) == (
        datetime.date(2026, 12, 1),
        datetime.date(2027, 6, 30),
    )
    assert list(projet.etapes.values_list("nom", "ordre")) == [("Cadrage", 1), ("Réalisation", 2)]
    choisir = Tache.objects.get(nom="Choisir l'éditeur; signer")
    assert choisir.responsable == world.charlie and choisir.statut == "EN_COURS"
    assert choisir.priorite == "NORMALE"
    bloquee = Tache.objects.get(nom="Paramétrer")
    assert (bloquee.statut, bloquee.priorite, bloquee.etape.nom) == (
        "BLOQUEE",
        "CRITIQUE",
        "Réalisation",
    )
    assert Tache.objects.get(nom="Former les équipes").etape is None
    creation = HistoriqueTache.objects.get(tache=choisir)
    assert creation.champ == "CREATION" and creation.auteur == world.alice
    assert creation.nouvelle_echeance == datetime.date(2026, 12, 20)
    assert plain(creation.motif) == "Import du fichier « portefeuille.csv »"
    members = MembreProjet.objects.filter(projet=projet)
    assert {m.utilisateur.username for m in members} == {"bob", "charlie"}
    assert {m.date_debut for m in members} == {TODAY}
    # As the project's own pages write it: a row per field a project, a phase or a
    # membership starts with.
    rows = HistoriqueProjet.objects.filter(projet=projet)
    assert Counter(rows.values_list("action", "sujet", "champ")) == {
        **{("CREATION", "PROJET", champ): 1 for champ in
           ("code", "nom", "chef_de_projet", "statut", "date_debut", "date_fin_prevue")},
        ("CREATION", "ETAPE", "nom"): 2,
        ("CREATION", "ETAPE", "ordre"): 2,
        ("AJOUT_MEMBRE", "MEMBRE", "role"): 2,
        ("AJOUT_MEMBRE", "MEMBRE", "date_debut"): 2,
    }  # fmt: skip
    assert rows.get(champ="chef_de_projet").nouvelle_valeur == str(world.alice.pk)
    assert {row.motif for row in rows} == {creation.motif}
    assert NotificationTache.objects.count() == 0  # no event notification from an import


def test_an_xlsx_file_with_date_cells(world: World, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tache", "code_projet", "projet", "chef_de_projet", "responsable", "statut",
                  "date_echeance", "etape"])  # fmt: skip
    sheet.append(["Migrer", "portail", "Refonte du portail", "alice", "bob", "En cours",
                  datetime.datetime(2026, 12, 4), "Cadrage"])  # fmt: skip
    sheet.append(["Recetter", "portail", "Refonte du portail", "alice", "BOB", "à faire",
                  "2026-12-18", None])  # fmt: skip
    sheet.append([None] * 8)  # a blank row is skipped
    book.save(tmp_path / "portefeuille.xlsx")
    result = run(tmp_path / "portefeuille.xlsx")
    assert result.ok, result.errors
    assert result.counts.tasks_created == 2 and result.counts.projects_created == 0
    assert Tache.objects.get(nom="Migrer").date_echeance == datetime.date(2026, 12, 4)
    assert Tache.objects.get(nom="Recetter").etape is None
    assert result.counts.members_added == 0  # bob already a member


def test_a_comma_separated_file_with_iso_dates(world: World, tmp_path):
    text = (
        "code_projet,projet,chef_de_projet,tache,responsable,date_echeance,statut,description\n"
        "portail,Refonte du portail,alice,Migrer,bob,2026-12-04,TERMINEE,"
        '"Deux lignes,\navec virgule"\n'
    )
    result = run(write(tmp_path, text))
    assert result.ok, result.errors
    tache = Tache.objects.get(nom="Migrer")
    assert tache.description == "Deux lignes,\navec virgule"
    assert (tache.avancement, tache.date_fin_reelle) == (100, TODAY)  # kept in step


def test_importing_the_same_file_again_changes_nothing(world: World, tmp_path):
    path = write(tmp_path, EXCEL_CSV)
    run(path)
    before = snapshot()
    again = run(path)
    assert again.ok and again.counts.changed == 0 and again.changes == []
    assert snapshot() == before


def test_a_changed_due_date_updates_the_task_and_counts_as_a_slip(world: World, tmp_path):
    run(write(tmp_path, EXCEL_CSV))
    later = EXCEL_CSV.replace("15/12/2026;À faire", "22/12/2026;Terminée")
    result = run(write(tmp_path, later, "v2.csv"), author=world.alice)
    assert result.ok and result.counts.tasks_updated == 1 and result.counts.tasks_created == 0
    tache = Tache.objects.get(nom="Recueillir les besoins")
    assert tache.date_echeance == datetime.date(2026, 12, 22)
    assert (tache.statut, tache.avancement, tache.date_fin_reelle) == ("TERMINEE", 100, TODAY)
    rows = {row.champ: row for row in tache.historique.exclude(champ="CREATION")}
    assert set(rows) == {"ECHEANCE", "STATUT", "AVANCEMENT"}
    assert rows["ECHEANCE"].ancienne_echeance == datetime.date(2026, 12, 15)
    assert (
        rows["ECHEANCE"].is_slip and plain(rows["ECHEANCE"].motif) == "Import du fichier « v2.csv »"
    )
    assert tache.historique.filter(HistoriqueTache.SLIP).count() == 1
    [change] = result.changes
    assert change.line == 2 and [f.label for f in change.fields] == ["statut", "date d'échéance"]


def test_a_changed_owner_priority_and_an_existing_task(world: World, tmp_path):
    cadrage = EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    tache = TacheFactory(projet=world.projet, etape=cadrage, nom="Migrer", responsable=world.bob,
                         date_echeance=datetime.date(2026, 12, 4))  # fmt: skip
    left = MembreProjetFactory(projet=world.projet, utilisateur=world.charlie,
                               date_fin=datetime.date(2026, 1, 31))  # fmt: skip
    text = (
        f"{HEADER}\nportail;Refonte du portail;alice;Cadrage;Migrer;charlie;04/12/2026;"
        "A faire;Haute\n"
    )
    result = run(write(tmp_path, text))
    assert result.ok, result.errors
    tache.refresh_from_db()
    assert (tache.responsable, tache.priorite) == (world.charlie, "HAUTE")
    assert list(tache.historique.values_list("champ", flat=True)) == ["RESPONSABLE"]
    left.refresh_from_db()
    assert left.date_fin is None  # the member who had left is back
    assert result.counts.phases_created == 0 and result.counts.members_added == 1


def test_a_bad_file_is_refused_whole_with_every_bad_line(world: World, tmp_path):
    UserFactory(username="parti", is_active=False)
    text = (
        f"{HEADER}\n"
        "portail;Refonte du portail;alice;;Bon;bob;01/12/2026;A_FAIRE;\n"  # 2: fine
        "portail;Refonte du portail;alice;;Inconnu;zoe;01/12/2026;A_FAIRE;\n"  # 3
        "portail;Refonte du portail;alice;;Date;bob;31/02/2026;A_FAIRE;\n"  # 4
        "portail;Refonte du portail;alice;;Statut;bob;01/12/2026;Fini;\n"  # 5
        "portail;Refonte du portail;alice;;;bob;01/12/2026;A_FAIRE;\n"  # 6
        "portail;Refonte du portail;alice;;Bon;bob;02/12/2026;A_FAIRE;\n"  # 7: line 2, other date
        "portail;Autre nom;alice;;Autre;parti;01/12/2026;A_FAIRE;\n"  # 8: name, inactive
    )
    before = snapshot()
    result = run(write(tmp_path, text))
    assert not result.ok
    assert [error.line for error in result.errors] == [3, 4, 5, 6, 7, 8, 8]
    messages = [plain(error.message) for error in result.errors]
    assert messages[0] == "colonne « responsable » : aucun compte « zoe »"
    assert messages[1] == "colonne « date_echeance » : la date « 31/02/2026 » n'existe pas"
    assert "statut inconnu « Fini »" in messages[2]
    assert messages[3] == "colonne « tache » : obligatoire, la cellule est vide"
    assert "ligne 2" in messages[4]
    assert "désactivé" in messages[5] and "autre nom" in messages[6]
    assert snapshot() == before


def test_a_missing_column_is_named_on_line_1(world: World, tmp_path):
    result = run(write(tmp_path, "code_projet;projet;tache\nportail;Refonte;Migrer\n"))
    [error] = result.errors
    assert error.line == 1 and "chef_de_projet, responsable, date_echeance, statut" in error.message


def test_a_dry_run_writes_nothing_and_says_what_would_change(world: World, tmp_path):
    before = snapshot()
    result = run(write(tmp_path, EXCEL_CSV), dry_run=True)
    assert result.ok and result.dry_run
    assert (result.counts.projects_created, result.counts.tasks_created) == (1, 4)
    assert result.changes[0].kind == "project" and result.changes[0].line == 2
    assert snapshot() == before


def _rows_file(tmp_path: Path, count: int) -> Path:
    lines = [HEADER] + [
        f"p{n % 3};Projet {n % 3};alice;Étape {n % 4};Tâche {n};user{n % 5};01/12/2026;A_FAIRE;"
        for n in range(count)
    ]
    return write(tmp_path, "\n".join(lines) + "\n", f"t{count}.csv")


@pytest.mark.parametrize("write_mode", [True, False])
def test_queries_per_chunk_do_not_grow_with_the_file(world: World, tmp_path, write_mode):
    for n in range(5):
        UserFactory(username=f"user{n}")
    for n in range(3):  # stored projects: their tasks are looked up, chunk by chunk
        ProjetFactory(code=f"p{n}", nom=f"Projet {n}", chef_de_projet=world.alice)
    queries = {}
    for count in (200, 2000):  # from the same state: the projects, no phase, no task
        Tache.objects.all().delete()
        Etape.objects.all().delete()
        MembreProjet.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            result = run(_rows_file(tmp_path, count), dry_run=not write_mode, chunk_rows=100)
        assert result.ok and result.counts.tasks_created == count
        queries[count] = len(captured)
    per_chunk = (queries[2000] - queries[200]) / 18  # 20 chunks against 2
    assert per_chunk == int(per_chunk) and per_chunk <= (40 if write_mode else 3), queries


def test_the_template_imports_into_the_demo_accounts(db, tmp_path):
    from django.conf import settings

    for username in ("sophie.lefevre", "camille.bernard", "lucas.roux"):
        UserFactory(username=username)
    template = Path(settings.BASE_DIR) / "core/static/core/modele_import_portefeuille.csv"
    assert template.read_bytes() == template_csv()  # one definition of the rows
    result = run(template, dry_run=True)
    assert result.ok, result.errors
    assert result.counts.tasks_created >= 3


def test_an_identical_repeated_row_is_imported_once(world: World, tmp_path):
    row = "portail;Refonte du portail;alice;;Migrer;bob;01/12/2026;A_FAIRE;"
    result = run(write(tmp_path, f"{HEADER};remarque\n{row};a\n{row};b\n"))  # extra column
    assert result.ok and result.rows == 2 and result.counts.tasks_created == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0old", "Les anciens fichiers Excel (.xls) ne sont pas lus"),
        (
            (HEADER + "\nportail;Ann\xe9e;alice;;T;bob;01/12/2026;A_FAIRE;\n").encode("cp1252"),
            "enregistrez-le au format « CSV UTF-8 »",
        ),
        (b"PK\x03\x04broken", "Ce fichier XLSX est illisible."),
        (b"", "Le fichier est vide."),
    ],
)
def test_a_file_that_cannot_be_read_is_one_french_error(world, tmp_path, content, message):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    [error] = run(path).errors
    assert message in plain(error.message)


def test_a_project_renamed_handed_over_and_dated_goes_to_its_history(world: World, tmp_path):
    text = (
        "code_projet;projet;chef_de_projet;tache;responsable;date_echeance;statut;"
        "date_fin_projet\nPORTAIL;Portail 2027;bob;Migrer;bob;01/12/2026;A_FAIRE;30/06/2027\n"
    )
    result = run(write(tmp_path, text))
    assert result.ok and result.counts.projects_updated == 1
    world.projet.refresh_from_db()
    assert (world.projet.nom, world.projet.chef_de_projet, world.projet.code) == (
        "Portail 2027",
        world.bob,
        "portail",  # found whatever the case, kept as stored
    )
    rows = HistoriqueProjet.objects.filter(projet=world.projet)
    assert set(rows.values_list("action", "champ", "ancienne_valeur", "nouvelle_valeur")) == {
        ("PASSATION", "chef_de_projet", str(world.alice.pk), str(world.bob.pk)),
        ("MODIFICATION", "nom", "Refonte du portail", "Portail 2027"),
        ("MODIFICATION", "date_fin_prevue", "", "2027-06-30"),
        ("AJOUT_MEMBRE", "role", "", "MEMBRE"),  # alice stays, as a member
        ("AJOUT_MEMBRE", "date_debut", "", TODAY.isoformat()),
    }
    assert result.counts.members_added == 1 and world.alice.adhesions.get().date_fin is None


def test_two_stored_tasks_of_one_name_refuse_the_row(world: World, tmp_path):
    TacheFactory.create_batch(2, projet=world.projet, nom="Migrer")
    before = snapshot()
    result = run(write(tmp_path, f"{HEADER}\nportail;Refonte du portail;alice;;Migrer;bob;"
                                 "01/12/2026;A_FAIRE;\n"))  # fmt: skip
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "plusieurs tâches du projet portent ce nom")
    ]
    assert snapshot() == before


def test_a_file_of_too_many_rows_is_refused(world, tmp_path, monkeypatch):
    monkeypatch.setattr("core.services.portfolio_import.MAX_ROWS", 3)
    [error] = run(_rows_file(tmp_path, 5)).errors
    assert "plus de 3 lignes" in error.message


def test_an_import_in_a_leads_name_changes_only_the_projects_they_lead(world: World, tmp_path):
    """A member of « Chefs de projet » may create projects by an import, not change
    another lead's: the whole file is refused, naming the line and the lead."""
    lead = UserFactory(username="nadia", first_name="Nadia", last_name="Roux")
    lines = [
        HEADER,
        "crm;Nouveau CRM;nadia;;Recueillir;bob;15/12/2026;A_FAIRE;",
        f"{world.projet.code};{world.projet.nom};alice;;Détourner;bob;15/12/2026;A_FAIRE;",
    ]
    before = snapshot()

    refused = run(write(tmp_path, "\n".join(lines) + "\n"), author=lead)

    assert not refused.ok and snapshot() == before
    assert [(error.line, plain(error.message)) for error in refused.errors] == [
        (
            3,
            "le projet portail est dirigé par Alice Martin : seul son chef de projet ou un "
            "administrateur peut le modifier",
        ),
    ]
    own = run(write(tmp_path, "\n".join(lines[:2]) + "\n"), author=lead)
    assert own.ok and Projet.objects.get(code="crm").chef_de_projet == lead
    again = run(write(tmp_path, "\n".join(lines[:2]) + "\n"), author=lead)
    assert again.ok  # now theirs: an import may change it
    # Alice leads « portail », not « crm » (Nadia's now): refused as well.
    assert [
        error.line
        for error in run(write(tmp_path, "\n".join(lines) + "\n"), author=world.alice).errors
    ] == [2]
