"""A real OpenID Connect provider for the tests: oidc-provider-mock (authlib's
server on Flask) in its own process on a loopback port.

It serves discovery, an authorization form (one button per known person), the
token endpoint (ID tokens signed RS256 with a key of its own, published at its
JWKS) and userinfo. People are set with their claims through its
``PUT /users/<sub>`` (custom claims such as ``groups`` included), and may be
changed between two sign-ins. It accepts any client id, secret and redirect URI.
Ended after the test.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.faults import candidate_port

START_TIMEOUT = 20
CLIENT_ID = "si-gouvernance"
CLIENT_SECRET = "secret-du-client"
STAFF_GROUP = "dsi-admins"
LEAD_GROUP = "chefs-de-projet"


@dataclasses.dataclass(frozen=True)
class Person:
    sub: str
    username: str
    first_name: str
    last_name: str
    email: str
    groups: tuple[str, ...] = ()

    def claims(self) -> dict[str, object]:
        return {
            "preferred_username": self.username,
            "given_name": self.first_name,
            "family_name": self.last_name,
            "email": self.email,
            "email_verified": True,
            "groups": list(self.groups),
        }


JEANNE = Person(
    "b1f0c6e2-jeanne", "jdupont", "Jeanne", "Dupont", "jeanne.dupont@dsi.example.org",
    groups=(STAFF_GROUP, LEAD_GROUP, "tous"),
)  # fmt: skip
PAUL = Person("c2a1d7f3-paul", "pmartin", "Paul", "Martin", "paul.martin@dsi.example.org")


class Provider:
    def __init__(self, token_max_age: int) -> None:
        self.token_max_age = token_max_age
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def django_settings(self) -> dict[str, object]:
        """The application's settings for this provider (endpoints by discovery)."""
        return {
            "OIDC_ENABLED": True,
            "OIDC_PROVIDER_NAME": "Keycloak DSI",
            "OIDC_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": "",
            "OIDC_OP_TOKEN_ENDPOINT": "",
            "OIDC_OP_USER_ENDPOINT": "",
            "OIDC_OP_JWKS_ENDPOINT": "",
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_STAFF_GROUP": STAFF_GROUP,
            "OIDC_LEAD_GROUP": LEAD_GROUP,
            "OIDC_TIMEOUT": 5,
        }

    def start(self, log_path: str) -> None:
        for _ in range(5):  # the mock cannot bind port 0: another program may take ours
            self.port = candidate_port()
            command = [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--port",
                str(self.port),
                "--require-nonce",
                "--token-max-age",
                str(self.token_max_age),
            ]
            with open(log_path, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            if self._answers():
                return
            self.stop()
        pytest.fail(f"the OpenID Connect provider did not start (log: {log_path})")

    def _answers(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while self.process is not None and self.process.poll() is None:
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1)
                return True
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def set_person(self, person: Person) -> None:
        url = f"{self.issuer}/users/{person.sub}"
        response = requests.put(url, json=person.claims(), timeout=5)
        response.raise_for_status()

    def authorize(self, authorization_url: str, person: Person) -> str:
        """The person's click on the provider's page: the callback URL it sends back."""
        assert authorization_url.startswith(self.issuer), authorization_url
        response = requests.post(
            authorization_url, data={"sub": person.sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def oidc_provider(tmp_path) -> Iterator[Provider]:
    provider = Provider(token_max_age=300)
    provider.start(str(tmp_path / "oidc-provider.log"))
    try:
        for person in (JEANNE, PAUL):
            provider.set_person(person)
        yield provider
    finally:
        provider.stop()
