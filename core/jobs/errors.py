"""Errors as operators read them: one line."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (a driver's can run to ten lines)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
