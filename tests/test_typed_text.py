"""Text people type is data (issue 16, finding 3): normalised on input, refused
with a clear message when it holds a control character, never expanded by the
engine, never able to break an email."""

from __future__ import annotations

import unicodedata
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import HistoriqueTache, NotificationTache, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from core.text import header_safe, normalize, wire_safe
from tests.conftest import TODAY
from tests.factories import TacheFactory, UserFactory

TYPED_TEXT_MIGRATION = "0008_typed_text"

DECOMPOSED = unicodedata.normalize("NFD", "Étude préalable")


@pytest.mark.parametrize(
    "char",
    ["\x01", "\x02", "\x1c", "\x1f", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\ufeff"],
)
def test_a_name_with_a_control_character_is_refused_naming_it(char):
    field = Tache._meta.get_field("nom").formfield()

    code, message = _refusal(field, f"Recette{char}finale")

    assert code == "control_character"
    assert f"U+{ord(char):04X}" in message


def _refusal(field, value):
    with pytest.raises(ValidationError) as refused:
        field.clean(value)
    [error] = refused.value.error_list
    return error.code, error.messages[0]


def test_a_name_holds_one_line_and_a_description_several():
    name = Tache._meta.get_field("nom").formfield()
    description = Tache._meta.get_field("description").formfield()

    code, _ = _refusal(name, "Recette\r\nURGENT : reconnectez-vous : http://evil.example")
    assert code == "line_break"
    assert description.clean("Ligne 1\r\nLigne 2\rLigne 3\tfin") == "Ligne 1\nLigne 2\nLigne 3\tfin"
    with pytest.raises(ValidationError):
        description.clean("Ligne 1\u2028Ligne 2")


def test_typed_text_is_stored_in_nfc_and_tabs_become_spaces():
    field = Tache._meta.get_field("nom").formfield()

    cleaned = field.clean(f"  {DECOMPOSED}\tphase 2 ")

    assert cleaned == "Étude préalable phase 2"
    assert unicodedata.is_normalized("NFC", cleaned)
    assert normalize(DECOMPOSED) == unicodedata.normalize("NFC", DECOMPOSED)


def test_the_lead_sees_the_reason_and_nothing_is_saved(client, world):
    tache = TacheFactory(projet=world.projet, nom="Recette", date_echeance=TODAY)
    client.force_login(world.alice)

    response = client.post(
        reverse("core:task_edit", args=[tache.pk]),
        {
            "nom": "Rec\x1cette",
            "statut": Tache.Statut.A_FAIRE,
            "priorite": Tache.Priorite.NORMALE,
            "date_echeance": TODAY.isoformat(),
        },
    )

    assert response.status_code == 200
    assert "caractère de contrôle invisible (U+001C)" in response.content.decode()
    tache.refresh_from_db()
    assert tache.nom == "Recette"


def test_a_block_reason_keeps_its_lines_but_no_control_character(client, world):
    tache = TacheFactory(projet=world.projet, responsable=world.bob, statut=Tache.Statut.EN_COURS)
    client.force_login(world.bob)
    url = reverse("core:task_block", args=[tache.pk])

    refused = client.post(url, {"motif": "Serveur\u2028indisponible"})
    accepted = client.post(url, {"motif": "Serveur indisponible\r\nen attente du fournisseur"})

    assert "U+2028" in refused.content.decode()
    assert accepted.status_code == 302
    entry = HistoriqueTache.objects.get(tache=tache, nouveau_statut=Tache.Statut.BLOQUEE)
    assert entry.motif == "Serveur indisponible\nen attente du fournisseur"


def test_the_engine_copies_names_it_never_expands_them(world):
    """Names stored before input was normalised may hold anything, the engine's
    old stand-ins included: a name of 200 x "\\x02" once became 200 project names."""
    world.projet.nom = "Portail"
    world.projet.save()
    name = "\x02" * 50 + " %s %(projet)s \x01"
    TacheFactory(projet=world.projet, nom=name, responsable=world.bob, date_echeance=TODAY)

    create_deadline_alerts(today=TODAY)

    alert = NotificationTache.objects.get(destinataire=world.bob)
    assert alert.message.count("Portail") == 1
    assert name in alert.message and name in alert.titre


def test_the_engine_fills_names_in_the_order_of_the_sentence(world):
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)

    create_deadline_alerts(today=TODAY)

    alert = NotificationTache.objects.get(destinataire=world.bob)
    assert alert.titre == "Échéance aujourd'hui\u00a0: Recette"
    assert alert.message.index("Recette") < alert.message.index("Refonte du portail")
    assert "25\u00a0novembre 2026" in alert.message


def test_what_an_email_carries_has_no_line_break_smtp_would_not_see():
    assert wire_safe("a\x1cb\u2028c\x85d\r\ne\rf\tg") == "abcd\ne\nf\tg"
    assert header_safe(" Projet\x1c \n X\t ") == "Projet X"


def test_text_stored_before_is_cleaned_by_the_migration(db):
    """The data migration cleans what earlier versions let in (its function,
    run on today's models)."""
    migration = import_module(f"core.migrations.{TYPED_TEXT_MIGRATION}")
    projet = Projet.objects.create(
        nom="Portail\x1c\u2028", code="p", chef_de_projet=UserFactory(), description="a\x0bb\nc"
    )

    migration.clean_stored_text(apps, None)

    projet.refresh_from_db()
    assert (projet.nom, projet.description) == ("Portail", "ab\nc")


def test_typed_text_is_bounded():
    """What one person types, others load (task page, emails): descriptions and
    reasons have a size."""
    description = Tache._meta.get_field("description").formfield()
    reason = HistoriqueTache._meta.get_field("motif").formfield()

    assert description.clean("x" * 5000) == "x" * 5000
    with pytest.raises(ValidationError):
        description.clean("x" * 5001)
    with pytest.raises(ValidationError):
        reason.clean("x" * 1001)
