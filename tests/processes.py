"""Helpers for tests that start real processes: who is still alive, what listens."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc), read while they run."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until_gone(pids: set[int], *, timeout: float) -> list[int]:
    """The processes still alive after ``timeout`` seconds (empty: all ended)."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return sorted(pid for pid in pids if alive(pid))


def listening_ports(pid: int) -> set[int]:
    """The TCP ports ``pid`` or a process below it listens on (Linux /proc): how a
    test reads back the port a server bound when told port 0 and does not say it
    (Flower logs the port it was given, 0)."""
    inodes = set()
    for process in {pid, *descendants(pid)}:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{process}/fd").iterdir()]
        except OSError:
            continue  # ended meanwhile
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def port_is_free(port: int) -> bool:
    """Nothing listens (SO_REUSEADDR: closed connections in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def project_env(tmp_path: Path, *, clean: bool = False, **variables: str) -> dict[str, str]:
    """The environment of a project process started by a test: production settings,
    no ``.env``, ``var/`` and ``logs/`` under ``tmp_path``. ``clean``: nothing else
    of the test's environment but PATH, HOME and LANG; otherwise the test's, less
    the settings it must not leak (CELERY_*, FLOWER_*, DJANGO_*, DATABASE_*)."""
    if clean:
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    else:
        prefixes = ("CELERY_", "FLOWER_", "DJANGO_", "DATABASE_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path / "var"),
        LOG_DIR=str(tmp_path / "logs"),
    )
    env.update(variables)
    return env


def dev_py_module():
    """``dev.py`` imported as a module (its helpers: the secret key, the locks)."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def manage_py(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a clean environment: only what the test sets, and the secret
    key ``python dev.py`` generates in ``var/``."""
    base = project_env(tmp_path, clean=True)
    dev_py_module().ensure_secret_key(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )
