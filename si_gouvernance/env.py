"""A small, strict reader for settings that come from the environment.

A value that cannot be parsed is an error at start-up (``ImproperlyConfigured``),
never a silent default: ``DEBUG=ouii`` must not quietly mean False.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on", "oui", "vrai"}
_FALSE = {"0", "false", "no", "off", "non", "faux", ""}


def load_env_file(base_dir: Path) -> None:
    """Load ``.env`` (or the file named by ``ENV_FILE``); the real environment wins."""
    env_file = os.environ.get("ENV_FILE") or str(base_dir / ".env")
    if Path(env_file).is_file():
        load_dotenv(env_file, override=False)


def _read(name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return parse(raw.strip())
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"Invalid value for {name}={raw!r}: {exc}") from exc


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected a boolean (true/false, 1/0, yes/no, on/off)")


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_str(name: str, default: str = "") -> str:
    return _read(name, default, str)


def env_bool(name: str, default: bool) -> bool:
    return _read(name, default, _parse_bool)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _read(name, default, int)
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"Invalid value for {name}={value}: must be >= {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    return _read(name, default, float)


def env_list(name: str, default: list[str]) -> list[str]:
    return _read(name, default, _parse_list)


def env_int_list(name: str, default: list[int]) -> list[int]:
    return _read(name, default, lambda raw: [int(item) for item in _parse_list(raw)])


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value
