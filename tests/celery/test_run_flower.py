"""``manage.py run_flower`` with a real Flower: stopped with it, and no page without
the password, ``/metrics`` and ``/healthcheck`` included."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.flower_process import (
    AuthenticatedHealthcheck,
    AuthenticatedMetrics,
    protect_monitoring_endpoints,
)
from tests.celery.conftest import ROOT, wait_for
from tests.processes import listening_ports, project_env

pytestmark = [pytest.mark.redis, pytest.mark.worker]  # real processes: the PostgreSQL run
CREDENTIALS = "admin:s3cret"


def status(port: int, path: str = "/", credentials: str = "") -> int | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if credentials:
        token = base64.b64encode(credentials.encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Flower:
    """``manage.py run_flower``, and the Flower it started (killed if left behind)."""

    def __init__(self, tmp_path: Path, broker: str, port: int = 0) -> None:
        self.port = port  # 0: the system picks it, read back once Flower listens
        env = project_env(
            tmp_path,
            SECRET_KEY="flower-test",
            FLOWER_BASIC_AUTH=CREDENTIALS,
            CELERY_BROKER_URL=broker,
        )
        command = [sys.executable, "manage.py", "run_flower", f"--port={port}"]
        self.children: list[int] = []
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_until_up(self) -> None:
        if not self.port:
            wait_for(lambda: self._listens(), timeout=60, what="Flower to listen")
        wait_for(lambda: status(self.port) is not None, timeout=60, what="Flower to answer")
        # Remembered now: a Flower left behind by its parent is no longer its child.
        self.children = children_of(self.process.pid)

    def _listens(self) -> bool:
        self.port = min(listening_ports(self.process.pid), default=0)
        return bool(self.port)

    def kill_everything(self) -> None:
        for pid in [self.process.pid, *self.children]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def flowers(tmp_path: Path, redis_broker: str) -> Iterator[list[Flower]]:
    started: list[Flower] = []
    yield started
    for flower in started:
        flower.kill_everything()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_command_stops_flower_and_frees_its_port(
    tmp_path, redis_broker, flowers, stop_signal
):
    first = Flower(tmp_path, redis_broker)
    flowers.append(first)
    first.wait_until_up()
    [flower_pid] = first.children
    port = first.port

    first.process.send_signal(stop_signal)  # to the command only, as a service manager does

    assert first.process.wait(timeout=30) == 0
    assert not alive(flower_pid)
    assert status(port) is None
    # The next start gets the port (the audit's "address already in use").
    second = Flower(tmp_path, redis_broker, port)
    flowers.append(second)
    second.wait_until_up()
    assert status(port, credentials=CREDENTIALS) == 200


@pytest.mark.skipif(sys.platform != "linux", reason="reads its port in /proc")
@pytest.mark.parametrize("path", ["/", "/metrics", "/healthcheck", "/api/workers"])
def test_no_flower_page_answers_without_the_password(tmp_path, redis_broker, flowers, path):
    flower = Flower(tmp_path, redis_broker)
    flowers.append(flower)
    flower.wait_until_up()

    assert status(flower.port, path) == 401
    assert status(flower.port, path, credentials="admin:wrong") == 401
    assert status(flower.port, path, credentials=CREDENTIALS) == 200


def test_a_flower_whose_routes_changed_does_not_start_open():
    from flower.views import monitor

    handlers: list = [(r"/metrics", monitor.Metrics), (r"/health", object)]
    with pytest.raises(RuntimeError, match="Healthcheck"):
        protect_monitoring_endpoints(handlers)
    assert handlers[0] == (r"/metrics", AuthenticatedMetrics)

    handlers = [(r"/metrics", monitor.Metrics), (r"/healthcheck", monitor.Healthcheck, {})]
    protect_monitoring_endpoints(handlers)
    assert handlers == [
        (r"/metrics", AuthenticatedMetrics),
        (r"/healthcheck", AuthenticatedHealthcheck, {}),
    ]
