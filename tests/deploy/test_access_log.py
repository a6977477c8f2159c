"""The access log (logs/access.log) of both servers, through their real formatting:
gunicorn's logger class and format from si_gouvernance/gunicorn.conf.py, waitress'
wrapper from core/access_log.py. No secret in it (health token, reset-link token,
calendar feed address); the client's address is the proxy's header only from a
trusted proxy."""

from __future__ import annotations

import ast
import datetime
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from core.access_log import access_logged

gunicorn_config = pytest.importorskip("gunicorn.config")  # not on Windows

GUNICORN_CONF = Path(settings.BASE_DIR) / "si_gouvernance" / "gunicorn.conf.py"
SECRETS = ("s3cret-health", "c4x-0123456789abcdef", "s3cret-key")
RESET = "/comptes/reset/Mg/c4x-0123456789abcdef/"


def environ(**extra: str) -> dict[str, str]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health/",
        "QUERY_STRING": "token=s3cret-health&format=json&KEY=s3cret-key",
        "RAW_URI": "/health/?token=s3cret-health&format=json&KEY=s3cret-key",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_REAL_IP": "192.0.2.7",
        "HTTP_REFERER": f"https://gouvernance.example.org{RESET}",
        "HTTP_USER_AGENT": "curl/8",
        **extra,
    }


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def behind_proxy(settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]


def gunicorn_settings() -> dict[str, str]:
    """The constant settings of gunicorn.conf.py (the file needs production logging)."""
    tree = ast.parse(GUNICORN_CONF.read_text(encoding="utf-8"))
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }


def gunicorn_line(env: dict[str, str], tmp_path: Path) -> str:
    """One request through the logger class and format that gunicorn.conf.py sets."""
    conf = gunicorn_settings()
    cfg = gunicorn_config.Config()
    cfg.set("logger_class", conf["logger_class"])
    cfg.set("access_log_format", conf["access_log_format"])
    cfg.set("accesslog", str(tmp_path / "gunicorn-access.log"))
    logger = cfg.logger_class(cfg)
    capture = Lines()
    logger.access_log.addHandler(capture)
    try:
        response = SimpleNamespace(status="200 OK", sent=42, headers=[])
        request = SimpleNamespace(headers=[("X-REAL-IP", env["HTTP_X_REAL_IP"])])
        logger.access(response, request, env, datetime.timedelta(milliseconds=12))
    finally:
        logger.access_log.removeHandler(capture)
    [line] = capture.lines
    return line


def waitress_line(env: dict[str, str], caplog) -> str:
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "42")])
        return [b"{}"]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="web.access"):
        access_logged(app)(env, lambda *args: None)
    [line] = [r.getMessage() for r in caplog.records if r.name == "web.access"]
    return line


@pytest.fixture(params=["gunicorn", "waitress"])
def log_line(request, tmp_path, caplog):
    if request.param == "gunicorn":
        return lambda env: gunicorn_line(env, tmp_path)
    return lambda env: waitress_line(env, caplog)


def test_no_secret_reaches_the_access_log(log_line, behind_proxy):
    line = log_line(environ())

    assert not [secret for secret in SECRETS if secret in line], line
    assert "/health/?token=[redacted]&format=json&KEY=[redacted]" in line
    assert "/comptes/reset/Mg/[redacted]/" in line  # the referer


def test_a_reset_link_in_the_request_line_is_redacted(log_line, behind_proxy):
    line = log_line(environ(PATH_INFO=RESET, QUERY_STRING="", RAW_URI=RESET, HTTP_REFERER="-"))

    assert "c4x-0123456789abcdef" not in line
    assert '"GET /comptes/reset/Mg/[redacted]/ HTTP/1.1" 200 42' in line


def test_a_calendar_feed_address_is_redacted(log_line, behind_proxy):
    feed = "/calendrier/Zm9vYmFyLXNlY3JldC1jYWxlbmRhcg.ics"
    line = log_line(environ(PATH_INFO=feed, QUERY_STRING="", RAW_URI=feed, HTTP_REFERER="-"))

    assert "Zm9vYmFyLXNlY3JldC1jYWxlbmRhcg" not in line
    assert '"GET /calendrier/[redacted] HTTP/1.1" 200 42' in line


def test_the_client_address_is_the_header_from_a_trusted_proxy_only(log_line, behind_proxy):
    assert log_line(environ()).startswith("127.0.0.1 192.0.2.7 ")
    forged = log_line(environ(REMOTE_ADDR="203.0.113.9"))
    assert forged.startswith("203.0.113.9 203.0.113.9 "), forged
