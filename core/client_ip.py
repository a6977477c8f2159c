"""The client's address: the TCP peer's, or the proxy's header when the peer is a
trusted proxy. One definition for the sign-in lockout (django-axes'
``AXES_CLIENT_IP_CALLABLE``) and every log that names the client.

``CLIENT_IP_HEADER`` (e.g. ``X-Real-IP``) is read only when ``REMOTE_ADDR`` is in
``TRUSTED_PROXIES``: a client talking to the application's port directly, or
through a proxy that passes the header on unchanged, cannot choose the address
the lockout counts. A header holding a list (``X-Forwarded-For``) gives its last
entry, the one the trusted proxy appended.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str | None:
    """The client's address of a Django request (axes calls this)."""
    return client_address(request.META)


def client_address(environ: Mapping[str, Any]) -> str | None:
    """The client's address from a WSGI environ or ``request.META``; None without
    a peer (a request built in code, as ``Client.force_login`` does)."""
    peer = str(environ.get("REMOTE_ADDR") or "")
    if not peer:
        return None
    header = settings.CLIENT_IP_HEADER
    if not header or not _is_trusted(peer):
        return peer
    forwarded = str(environ.get(_meta_key(header)) or "").rsplit(",", 1)[-1].strip()
    return _valid_address(forwarded) or peer


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _is_trusted(peer: str) -> bool:
    try:
        ip = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # a dual-stack socket
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item) for item in trusted)


def _valid_address(text: str) -> str | None:
    """``text`` as a canonical IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
