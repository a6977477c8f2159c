"""The SQL the alert engines share (core.services.deadlines, core.services.escalation).

An alert's text is rendered once per rule in Python, with markers where the task
and project names go, then cut into pieces the database joins with the names of
each row (``pieces``, ``joined``): no name travels to Python, and none is ever
substituted into a template, so no name can contain a marker the query expands.
"""

from __future__ import annotations

import re

# Where the task and project names go in a rendered template. They mark our own
# translated sentence before it is cut into pieces (``pieces``), and never meet a
# name: the database joins the pieces and the names, it replaces nothing, so no
# name can contain a marker that the query would expand.
TASK, PROJECT = "\x01", "\x02"
_SLOT_OF = {TASK: "t", PROJECT: "p"}
_SLOTS = 2  # each name at most once in a sentence
# Pieces of a sentence: text, slot, text, slot, text.
PIECES = 2 * _SLOTS + 1


def pieces(rendered: str) -> tuple[str, ...]:
    """``rendered`` as text, slot, text, slot, text: a slot is "t" (the task's
    name), "p" (the project's) or "" (nothing), whatever the language's order."""
    parts = re.split(f"([{TASK}{PROJECT}])", rendered)
    texts, slots = parts[0::2], [_SLOT_OF[marker] for marker in parts[1::2]]
    assert len(slots) <= _SLOTS, rendered
    texts += [""] * (_SLOTS + 1 - len(texts))
    slots += [""] * (_SLOTS - len(slots))
    return (texts[0], *(piece for pair in zip(slots, texts[1:], strict=True) for piece in pair))


def joined(column: str) -> str:
    """SQL joining the pieces of ``column`` (r.<column>0 .. r.<column>4) and the names."""
    parts = [f"r.{column}0"]
    for i in range(1, 2 * _SLOTS, 2):
        parts.append(f"CASE r.{column}{i} WHEN 't' THEN t.nom WHEN 'p' THEN p.nom ELSE '' END")
        parts.append(f"r.{column}{i + 1}")
    return "(" + " || ".join(parts) + ")"


def literals(values: tuple[str, ...]) -> str:
    """An SQL list of code constants such as ``('A_FAIRE', 'EN_COURS')``."""
    assert all(value.isidentifier() for value in values)  # [A-Za-z_]: nothing to escape
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
