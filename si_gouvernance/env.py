"""A small, strict reader for settings that come from the environment.

A value that cannot be used is a ``SettingsError`` naming the variable, never a
silent default: ``DEBUG=ouii`` must not quietly mean False, ``EMAIL_PORT=99999``
must not wait to fail at the first email. ``exit_on_bad_settings`` turns it into
one line on stderr and a non-zero exit, for ``manage.py``, the web server, the
worker and beat alike.

The messages are written in French here, not through gettext: settings are read
before Django's translation machinery can run.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on", "oui", "vrai"}
_FALSE = {"0", "false", "no", "off", "non", "faux", ""}


class SettingsError(ImproperlyConfigured):
    """A setting from the environment that cannot be used."""


@contextmanager
def exit_on_bad_settings() -> Iterator[None]:
    """Around the settings module: a ``SettingsError`` becomes one line and an exit."""
    try:
        yield
    except SettingsError as exc:
        raise SystemExit(f"Configuration invalide : {exc}") from None


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
        raise SettingsError(f"{name}={raw!r} : {exc}") from None


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("booléen attendu (true/false, 1/0, yes/no, on/off, oui/non)")


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _check_range(name: str, value: int, minimum: int | None, maximum: int | None) -> int:
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={value} : doit être >= {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={value} : doit être <= {maximum}")
    return value


def _parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("nombre entier attendu") from None


def env_str(name: str, default: str = "") -> str:
    return _read(name, default, str)


def env_bool(name: str, default: bool) -> bool:
    return _read(name, default, _parse_bool)


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    return _check_range(name, _read(name, default, _parse_int), minimum, maximum)


def env_list(name: str, default: list[str]) -> list[str]:
    return _read(name, default, _parse_list)


def env_int_list(
    name: str, default: list[int], *, minimum: int | None = None, maximum: int | None = None
) -> list[int]:
    """A non-empty, comma-separated list of whole numbers, each within range."""

    def parse(raw: str) -> list[int]:
        items = _parse_list(raw)
        if not items:
            raise ValueError("liste vide : au moins un nombre attendu (ex. 2,1)")
        return [_parse_int(item) for item in items]

    values = _read(name, default, parse)
    for value in values:
        _check_range(name, value, minimum, maximum)
    return values


def env_networks(name: str, default: list[str]) -> list[str]:
    """Comma-separated IP addresses or CIDR networks (``10.0.0.0/8``), each checked.

    An address with host bits under its mask (``10.0.0.1/8``) is refused: it
    usually means a typo, and the network it would stand for is not the one written.
    """

    def parse(raw: str) -> list[str]:
        return [_parse_network(item) for item in _parse_list(raw)]

    return _read(name, default, parse)


def _parse_network(item: str) -> str:
    try:
        return str(ipaddress.ip_network(item))
    except ValueError:
        raise ValueError(
            f"{item!r} n'est ni une adresse IP ni un réseau CIDR (ex. 127.0.0.1, 10.0.0.0/8)"
        ) from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    def parse(raw: str) -> str:
        if raw.upper() not in choices:
            raise ValueError(f"une valeur parmi {', '.join(choices)} attendue")
        return raw.upper()

    return _read(name, default, parse)


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of ``schemes`` (``sqla+sqlite`` counts as ``sqla+``)."""

    def parse(raw: str) -> str:
        if not raw:
            return raw  # set but empty: the feature is off (e.g. no Flower link)
        parts = urlsplit(raw)
        if not any(parts.scheme == s or parts.scheme.startswith(s) for s in schemes):
            raise ValueError(f"adresse {' / '.join(s + '://' for s in schemes)}… attendue")
        if parts.scheme in ("http", "https") and not parts.netloc:
            raise ValueError("adresse complète attendue, par exemple https://hote.example.org")
        return raw

    return _read(name, default, parse)


def env_database(name: str, default: str, **options: Any) -> dict[str, Any]:
    """A database from a URL (dj-database-url), the variable named on error."""

    def parse(raw: str) -> dict[str, Any]:
        try:
            config: dict[str, Any] = dict(dj_database_url.parse(raw, **options))
        except Exception:  # UnknownSchemeError, or a malformed URL
            raise ValueError("adresse attendue comme postgres://… ou sqlite:///…") from None
        return config

    return _read(name, parse(default), parse)
