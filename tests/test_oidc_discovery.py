"""The provider's endpoints from its discovery document: read when someone signs
in with it, kept in the cache, refused when it names another issuer or cannot be
had. A small HTTP server in a thread plays the provider's discovery URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.oidc import Endpoints, ProviderUnavailable, provider_endpoints


class Discovery:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/dsi"
        self.document: dict[str, str] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/certs",
        }
        self.requests: list[str] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        discovery = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                discovery.requests.append(self.path)
                body = json.dumps(discovery.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def discovery(settings) -> Iterator[Discovery]:
    served = Discovery()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    settings.OIDC_ISSUER = served.issuer
    for name in ("AUTHORIZATION_ENDPOINT", "TOKEN_ENDPOINT", "USER_ENDPOINT", "JWKS_ENDPOINT"):
        setattr(settings, f"OIDC_OP_{name}", "")
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_the_endpoints_come_from_the_document_once(discovery):
    first = provider_endpoints()
    assert first == Endpoints(
        authorization=f"{discovery.issuer}/auth",
        token=f"{discovery.issuer}/token",
        userinfo=f"{discovery.issuer}/userinfo",
        jwks=f"{discovery.issuer}/certs",
    )
    assert provider_endpoints() == first
    assert discovery.requests == ["/realms/dsi/.well-known/openid-configuration"]  # cached


def test_an_endpoint_set_wins_over_the_document(settings, discovery):
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://sso.example.org/token"
    assert provider_endpoints().token == "https://sso.example.org/token"
    assert provider_endpoints().jwks == f"{discovery.issuer}/certs"


def test_every_endpoint_set_needs_no_document(settings, discovery):
    for name in ("AUTHORIZATION_ENDPOINT", "TOKEN_ENDPOINT", "USER_ENDPOINT", "JWKS_ENDPOINT"):
        setattr(settings, f"OIDC_OP_{name}", f"https://sso.example.org/{name.lower()}")
    assert provider_endpoints().userinfo == "https://sso.example.org/user_endpoint"
    assert discovery.requests == []


def test_a_document_naming_another_issuer_is_refused(discovery):
    discovery.document["issuer"] = "https://impostor.example.org"
    with pytest.raises(ProviderUnavailable, match="another issuer"):
        provider_endpoints()


def test_a_document_without_the_keys_is_refused(discovery):
    del discovery.document["jwks_uri"]
    with pytest.raises(ProviderUnavailable, match="jwks_uri"):
        provider_endpoints()


def test_a_provider_down_is_unavailable(settings, discovery):
    discovery.server.shutdown()
    discovery.server.server_close()
    with pytest.raises(ProviderUnavailable):
        provider_endpoints()
