"""The French catalogue is complete and compiled: users never meet an English string."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext

PO = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_french_translation():
    entries = re.split(r"\n\n", PO.read_text(encoding="utf-8"))
    untranslated = [
        entry
        for entry in entries[1:]  # the header's msgid is empty by design
        if re.search(r'^msgstr(\[\d\])? ""\n(?!")', entry + "\n", re.MULTILINE)
        and "#, fuzzy" not in entry
    ]
    assert untranslated == []
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")


def test_the_compiled_catalogue_is_used():
    with translation.override("fr"):
        assert gettext("Due today: %(tache)s") == "Échéance aujourd'hui\u00a0: %(tache)s"
        assert gettext("Project: %(projet)s") == "Projet\u00a0: %(projet)s"


def test_french_typography_in_the_catalogue():
    """A non-breaking space before : ; ! ? and inside « », never a plain one, so a
    line never starts with a colon or a closing guillemet."""
    offending = []
    for entry in re.split(r"\n\n", PO.read_text(encoding="utf-8"))[1:]:
        translation = entry[entry.find("\nmsgstr") :]
        if re.search(r" [:;!?»]|« |\" \n\"[:;!?»]", translation):
            offending.append(translation.strip())
    assert offending == [], "Use U+00A0 before : ; ! ? » and after «"
