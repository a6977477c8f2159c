"""The production chain for real: deploy/nginx/si-gouvernance.conf (TLS) in front of
`manage.py serve` (gunicorn) with DJANGO_SECURE=true. HTTP is sent to HTTPS, a user
signs in over HTTPS with secure cookies, and the lockout counts the address nginx
saw, whatever X-Real-IP the client sends, through nginx or straight to gunicorn's
port; nginx itself limits the sign-in POSTs (limit_req)."""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import PASSWORD
from tests.faults import candidate_port

pytestmark = pytest.mark.worker
SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "si-gouvernance.conf"


class HttpsClient:
    """One browser: cookies kept by hand (urllib drops Secure cookies on 127.0.0.1)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=20)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], str]:
        connection = self.connect()
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                assert "Secure" in value, value  # DJANGO_SECURE: never sent over HTTP
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        answer = (response.status, dict(response.getheaders()), response.read().decode())
        connection.close()
        return answer

    def sign_in(self, username: str, password: str, **headers: str) -> int:
        _status, _headers, page = self.request("GET", "/comptes/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        return self.request("POST", "/comptes/login/", form, **headers)[0]


class DirectClient(HttpsClient):
    """Straight to gunicorn's port, from another loopback address (127.0.0.2: not
    a trusted proxy), claiming HTTPS as a proxy would."""

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=20, source_address=("127.0.0.2", 0)
        )

    def request(self, method: str, path: str, form=None, **headers: str):
        headers.setdefault("X-Forwarded-Proto", "https")
        return super().request(method, path, form, **headers)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator:
    """``nginx(application)``: nginx with the repository's site in front of
    ``application(https_port)``, which starts the application knowing nginx's HTTPS
    port and returns its own port. nginx cannot bind port 0 and say which port it
    got: its two ports are ones the system offers, and on "Address already in use"
    (another program took one meanwhile) both start again on others."""
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed")
    processes: list[subprocess.Popen[bytes]] = []
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"

    def start(application: Callable[[int], int]) -> tuple[int, int]:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for _ in range(5):
            http_port, https_port = candidate_port(), candidate_port()
            if http_port == https_port:
                continue
            processes.append(_start_nginx(tmp_path, application(https_port), http_port, https_port))
            error = _wait_for_nginx(processes[-1], tmp_path)
            if not error:
                return http_port, https_port
            assert "Address already in use" in error, error
        pytest.fail("nginx found no free ports")

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_nginx(
    tmp_path: Path, upstream_port: int, http_port: int, https_port: int
) -> subprocess.Popen[bytes]:
    site = SITE.read_text(encoding="utf-8")
    for old, new in {
        "/etc/ssl/certs/gouvernance.example.org.pem": str(tmp_path / "cert.pem"),
        "/etc/ssl/private/gouvernance.example.org.key": str(tmp_path / "key.pem"),
        "/var/log/nginx/": f"{tmp_path}/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "return 301 https://$host$request_uri;": f"return 301 https://$host:{https_port}$request_uri;",
    }.items():
        assert old in site, old
        site = site.replace(old, new)
    site = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", site)  # no IPv6 in the sandbox
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    command = ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    return subprocess.Popen(command, stderr=subprocess.PIPE)


def _wait_for_nginx(process: subprocess.Popen[bytes], tmp_path: Path) -> str:
    """ "" once nginx runs (its pid file written), else what it said as it ended."""
    deadline = time.monotonic() + 20
    while not (tmp_path / "nginx.pid").exists():
        if process.poll() is not None:
            assert process.stderr is not None
            return process.stderr.read().decode() or "nginx ended"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return ""


def test_https_sign_in_through_nginx_with_the_real_client_address(serve, dora, nginx):
    web_ports: list[int] = []

    def application(https_port: int) -> int:  # gunicorn, trusting nginx's HTTPS origin
        server = serve(
            "gunicorn",
            "--workers=2",
            DJANGO_SECURE="true",
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL="https://127.0.0.1",
            CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{https_port}",
        )
        web_ports.append(server.port)
        return server.port

    http_port, https_port = nginx(application)
    web_port = web_ports[-1]

    plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    plain.request("GET", "/comptes/login/")
    assert plain.getresponse().status == 301  # nginx sends HTTP to HTTPS

    browser = HttpsClient(https_port)
    assert browser.sign_in(dora, PASSWORD) == 302
    status, _headers, page = browser.request("GET", "/")
    assert status == 200 and "Mes tâches" in page
    assert browser.request("GET", "/health/")[0] in (200, 503)  # through the proxy too

    # Straight to gunicorn's port from an untrusted peer, aiming at the address
    # nginx's users have here (127.0.0.1): the header is ignored, the peer's own
    # address is counted; the right password does not get through, and the users
    # behind nginx are not locked.
    direct = DirectClient(web_port)
    for _ in range(5):
        direct.sign_in(dora, "faux", **{"X-Real-IP": "127.0.0.1"})
    assert direct.sign_in(dora, PASSWORD, **{"X-Real-IP": "198.51.100.2"}) == 429
    assert HttpsClient(https_port).sign_in(dora, PASSWORD) == 302

    # Five failures sent with a forged X-Real-IP, then the right password from
    # "another" forged address: nginx overwrote both with the real one, so the
    # lock holds (the lockout cannot be dodged by inventing addresses).
    attacker = HttpsClient(https_port)
    for n in range(5):
        attacker.sign_in(dora, "faux", **{"X-Real-IP": f"203.0.113.{n}"})
    assert attacker.sign_in(dora, PASSWORD, **{"X-Real-IP": "198.51.100.1"}) == 429

    # A flood of POSTs: beyond its burst, nginx answers 429 itself.
    flood = [attacker.request("POST", "/comptes/login/", {}) for _ in range(40)]
    assert any(status == 429 and "nginx" in page for status, _headers, page in flood)
