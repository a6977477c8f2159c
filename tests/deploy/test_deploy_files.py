"""The files in deploy/ are checked by the tools that will read them: systemd's own
verifier, `nginx -t`, a real redis-server; what cannot run here (Windows services)
is read and held to the commands that exist and to the operations guide."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import get_commands

from tests.celery.conftest import ROOT, wait_for

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
INSTALL_DIR = "/opt/si-gouvernance"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def exec_start(path: Path) -> list[str]:
    return shlex.split(unit(path)["Service"]["ExecStart"].replace("%%", "%"))


def test_there_is_a_unit_for_each_process_and_the_guide_names_them():
    assert [path.stem for path in UNITS] == [
        "si-gouvernance-beat",
        "si-gouvernance-flower",
        "si-gouvernance-web",
        "si-gouvernance-worker",
    ]
    for path in UNITS:
        assert f"deploy/systemd/{path.name}" in OPERATIONS


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_each_unit_runs_a_command_of_this_repository(path):
    command = exec_start(path)
    program = Path(command[0].replace(INSTALL_DIR, str(ROOT)))
    assert program.exists(), program  # .venv/bin/python or .venv/bin/celery
    if command[1] == "manage.py":
        assert command[2] in get_commands()  # serve, run_flower
    else:
        assert command[1:4] == ["-A", "si_gouvernance", command[3]]
        assert command[3] in ("worker", "beat")
    service = unit(path)["Service"]
    assert service["User"] == "sigouv"
    assert service["EnvironmentFile"] == "/etc/si-gouvernance/si-gouvernance.env"
    assert service["Restart"] == "always"


def test_the_worker_stops_warm_within_the_task_time_limits():
    service = unit(DEPLOY / "systemd" / "si-gouvernance-worker.service")["Service"]
    # SIGTERM to the main process only: Celery's warm shutdown finishes running tasks.
    assert (service["KillSignal"], service["KillMode"]) == ("SIGTERM", "mixed")
    assert int(service["TimeoutStopSec"]) > settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_the_web_unit_lets_gunicorn_finish_its_requests():
    service = unit(DEPLOY / "systemd" / "si-gouvernance-web.service")["Service"]
    assert exec_start(DEPLOY / "systemd" / "si-gouvernance-web.service")[1:] == [
        "manage.py",
        "serve",
    ]
    assert service["Type"] == "notify"  # gunicorn tells systemd when it is ready
    assert int(service["TimeoutStopSec"]) > 30  # gunicorn's graceful_timeout


@pytest.mark.process
def test_systemd_accepts_the_units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for path in UNITS:  # pointed at this checkout, so every ExecStart exists
        text = path.read_text(encoding="utf-8").replace(INSTALL_DIR, str(ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # not even a warning (unknown key, bad value)


@pytest.mark.process
def test_nginx_accepts_the_site(tmp_path):
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx or openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=gouvernance.example.org", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (DEPLOY / "nginx" / "si-gouvernance.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/certs/gouvernance.example.org.pem", str(cert))
    site = site.replace("/etc/ssl/private/gouvernance.example.org.key", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_nginx_passes_what_django_trusts_and_flower_keeps_its_sub_path():
    site = (DEPLOY / "nginx" / "si-gouvernance.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site  # SECURE_PROXY_SSL_HEADER
    assert "proxy_set_header X-Real-IP $remote_addr;" in site  # CLIENT_IP_HEADER
    flower = re.search(r"location /flower/ \{(.*?)\}", site, re.S).group(1)
    assert "proxy_pass http://127.0.0.1:5555;" in flower  # no URI: the path is kept
    env = (DEPLOY / "si-gouvernance.env.example").read_text(encoding="utf-8")
    assert "FLOWER_URL_PREFIX=flower" in env  # Flower's --url_prefix
    assert "CLIENT_IP_HEADER=X-Real-IP" in env


@pytest.mark.process
def test_the_redis_settings_lose_nothing(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    conf = DEPLOY / "redis" / "si-gouvernance.conf"
    sock = tmp_path / "redis.sock"  # a socket of its own: no TCP port to choose
    command = ["redis-server", str(conf), "--port", "0", "--unixsocket", str(sock)]
    process = subprocess.Popen([*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=5, decode_responses=True)
        wait_for(lambda: _answers(client), timeout=20, what="redis-server to answer")
        config = client.config_get("*")
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "everysec"
        assert config["maxmemory-policy"] == "noeviction"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_windows_services_run_the_same_commands():
    script = (DEPLOY / "windows" / "install-services.ps1").read_text(encoding="utf-8")
    services = dict(re.findall(r'Install-SiService "(\w+)" "[^"]*" `\s+\$\w+ "([^"]+)"', script))
    assert services == {
        "SIGouvWeb": "manage.py serve",
        "SIGouvWorker": "-A si_gouvernance worker --pool=solo --loglevel=INFO --hostname=worker@%h",
        "SIGouvBeat": "-A si_gouvernance beat --loglevel=INFO --pidfile=",
    }
    assert "serve" in get_commands()
    for name in services:
        assert name in OPERATIONS
    assert "deploy/windows/install-services.ps1" in OPERATIONS.replace("\\", "/")
