#!/usr/bin/env python3
"""Two commands for a fresh machine, with only Python 3.11 installed.

    python dev.py run    # the application + worker + beat on embedded defaults, demo data
    python dev.py test   # lint, types, the whole test suite (SQLite and PostgreSQL)
    python dev.py test --fast   # lint and the tests without real processes, one database

and one after a change of dependencies in ``pyproject.toml``:

    python dev.py lock   # requirements/*.lock again (--upgrade: the newest versions allowed)

Each creates ``.venv`` and installs the locked dependencies into it on first use (again
when ``requirements/dev.lock`` or ``pyproject.toml`` changes). Standard library only:
this file runs before any dependency is installed, on Linux and on Windows.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
# Exact versions and hashes for Linux and Windows, made from pyproject.toml (README,
# « Installation reproductible »): dev.lock for .venv, prod.lock for a server.
DEV_LOCK = ROOT / "requirements" / "dev.lock"
PROD_LOCK = ROOT / "requirements" / "prod.lock"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"


def sh(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)
    if check and code:
        sys.exit(code)
    return code


def ensure_venv() -> None:
    """Create .venv and install the locked dev dependencies, then the project itself,
    once per version of the lock and of pyproject.toml."""
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + DEV_LOCK.read_bytes()
    ).hexdigest()
    ensure_secret_key(Path(os.environ.get("VAR_DIR") or ROOT / "var"))
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PYTHON.exists():
        print("Création de l'environnement virtuel .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # pip itself is in the lock: the first install pins it too.
    sh(PYTHON, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", DEV_LOCK)
    sh(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")
    STAMP.write_text(digest)


def ensure_secret_key(var_dir: Path) -> None:
    """``var/secret_key``: the embedded setup's SECRET_KEY, generated once per machine
    (git-ignored; production sets SECRET_KEY). Settings only read it."""
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    key_file.chmod(0o600)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    sh(PYTHON, "manage.py", *args, env=env)


def site_url(address: str) -> str:
    """Where runserver listens, as a link in an email ("8000", "0.0.0.0:8000"...)."""
    host, _, port = address.rpartition(":")
    if host in ("", "0", "0.0.0.0", "[::]"):  # noqa: S104 (reading, not binding)
        host = "127.0.0.1" if not host else socket.getfqdn()
    return f"http://{host}:{port}"


def write_site_url(var_dir: Path, address: str) -> Path:
    """``var/site_url``: where links in emails lead while ``dev.py run`` serves
    ``address``, read by the application (core.site_url), its worker and any
    command run by hand meanwhile; removed when the run stops."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "site_url"
    path.write_text(site_url(address) + "\n", encoding="utf-8")
    return path


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> None:
    """Web + worker + beat on one machine: SQLite, embedded broker, emails in files."""
    # A service manager or `kill` (SIGTERM), Ctrl+C (SIGINT) and, on Windows,
    # Ctrl+Break all stop everything: the children are stopped below, never left.
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _interrupt)
    ensure_venv()
    var_dir = Path(os.environ.get("VAR_DIR") or ROOT / "var")
    address = os.environ.get("RUN_ADDR", "127.0.0.1:8000")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    emails = var_dir / "emails"
    if "EMAIL_BACKEND" not in os.environ:
        # Thousands of lines of console emails would bury the address and password.
        env.update(EMAIL_BACKEND=FILE_EMAILS, EMAIL_FILE_PATH=str(emails))
    # Links in emails follow the address we listen on (unless SITE_URL says
    # otherwise), for a command run by hand in another shell too (core.site_url).
    served = write_site_url(var_dir, address)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        manage("migrate", "--no-input", env=env)
        manage("collectstatic", "--no-input", "-v0", env=env)
        manage("seed_demo", env=env)
        manage("setup_periodic_tasks", env=env)
        manage("check_task_deadlines", env=env)
        commands = _commands(address)
        # On Windows CTRL_BREAK_EVENT only reaches a child started in its own group.
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if os.name == "nt" else 0

        def start(name: str) -> None:
            processes[name] = subprocess.Popen(
                commands[name], cwd=ROOT, env=env, creationflags=flags
            )

        for name in commands:
            start(name)
        _wait_for_web(address, processes["web"])
        print(_banner(address, var_dir, emails if "EMAIL_BACKEND" in env else None), flush=True)
        supervise(processes, start)
    except KeyboardInterrupt:
        pass
    finally:
        stop(list(processes.values()))
        served.unlink(missing_ok=True)
    failed = [name for name, p in processes.items() if p.returncode not in (0, -2, -15, None)]
    sys.exit(1 if failed else 0)


FILE_EMAILS = "django.core.mail.backends.filebased.EmailBackend"


def _commands(address: str) -> dict[str, list[str]]:
    celery = [str(PYTHON), "-m", "celery", "-A", "si_gouvernance"]
    return {
        "web": [
            str(PYTHON),
            "manage.py",
            "runserver",
            "--noreload",  # one process: stopping it stops the web server
            address,
        ],
        "worker": [
            *celery,
            "worker",
            "--loglevel=INFO",
            "--pool=solo" if os.name == "nt" else "--pool=threads",
            "--concurrency=2",
        ],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }


def _wait_for_web(address: str, web: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Until the web server accepts connections (or ends, or a minute passes): the
    banner then comes after its own start-up lines."""
    host, _, port = address.rpartition(":")
    host = "127.0.0.1" if host in ("", "0", "0.0.0.0", "[::]") else host.strip("[]")  # noqa: S104
    deadline = time.monotonic() + timeout_s
    while web.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)


def _banner(address: str, var_dir: Path, emails: Path | None) -> str:
    """What a newcomer needs, printed last so that it stays on the screen."""
    password_file = var_dir / "demo_password.txt"
    if os.environ.get("DEMO_PASSWORD"):
        said = "celui de DEMO_PASSWORD"
    elif password_file.exists():
        said = password_file.read_text(encoding="utf-8").strip()
    else:
        said = "celui choisi à leur création (base existante)"
    lines = [
        f"SI-Gouvernance\u00a0: http://{address}/  (Ctrl+C pour arrêter)",
        "Comptes de démonstration\u00a0: admin (DSI), sophie.lefevre (cheffe de projet),"
        " camille.bernard (membre)…",
        f"Mot de passe de ces comptes\u00a0: {said}",
    ]
    if emails is not None:
        lines.append(f"Courriels envoyés\u00a0: un fichier par envoi dans {emails}")
    rule = "=" * 72
    return "\n".join(["", rule, *lines, rule, ""])


# A worker or beat that dies is started again, as systemd's Restart=always and NSSM
# do: after 5 s, twice as long after each death in a row, at most a minute; a
# process that ran for RESTART_STABLE_S starts the count again.
RESTARTED = {"worker": "Le worker", "beat": "Le beat"}
RESTART_DELAYS_S = (5, 10, 20, 40, 60)
RESTART_STABLE_S = 60


def supervise(processes: dict[str, subprocess.Popen[bytes]], start: Callable[[str], None]) -> None:
    """Until the web server ends (or a signal): restart the worker and beat."""
    deaths = dict.fromkeys(RESTARTED, 0)
    started = dict.fromkeys(RESTARTED, time.monotonic())
    due: dict[str, float] = {}
    while processes["web"].poll() is None:
        now = time.monotonic()
        for name, label in RESTARTED.items():
            if name in due and now >= due[name]:
                del due[name]
                start(name)
                started[name] = now
            elif name not in due and (code := processes[name].poll()) is not None:
                deaths[name] = 0 if now - started[name] > RESTART_STABLE_S else deaths[name]
                delay = RESTART_DELAYS_S[min(deaths[name], len(RESTART_DELAYS_S) - 1)]
                deaths[name] += 1
                due[name] = now + delay
                print(f"{label} s'est arrêté (code {code})\u00a0: redémarrage dans {delay} s")
                sys.stdout.flush()
        time.sleep(0.5)


def stop(children: Iterable[subprocess.Popen[bytes]]) -> None:
    """Ask every child to stop (a worker finishes its task), kill what lingers."""
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):  # a second signal must not cut this short
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    for proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGTERM)
    for proc in children:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Debian packages the tests use: Chromium (browser tests), nginx (`nginx -t` of deploy/),
# slapd (the directory sign-in against a real OpenLDAP, tests/ldap_server.py), npm and
# Java (the accessibility tests fetch axe-core and the Nu HTML Checker with npm into
# .cache/npm, see tests/web/web_tools.py, and run the checker with Java).
DEBIAN_TOOLS = {
    "chromium": "chromium",
    "nginx": "nginx",
    "slapd": "slapd",
    "npm": "npm",
    "java": "default-jre-headless",
}


def ensure_debian_tools() -> None:
    """Install the missing ones from Debian (never a test tool's own download)."""
    missing = [
        package
        for command, package in DEBIAN_TOOLS.items()
        if not shutil.which(command)
        and not (command == "chromium" and os.environ.get("CHROMIUM_PATH"))
    ]
    if missing and os.name != "nt" and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh("apt-get", "update", "-qq", env=env, check=False)
        sh("apt-get", "install", "-y", "-qq", *missing, env=env, check=False)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL
    dsn = url.replace("postgres://", "postgresql://")
    code = f"import psycopg; psycopg.connect({dsn!r}, connect_timeout=3).close()"
    probe = [str(PYTHON), "-c", code]
    ok = subprocess.call(probe, cwd=ROOT, stderr=subprocess.DEVNULL) == 0
    if not ok and os.environ.get("CI"):
        sys.exit(f"PostgreSQL is required in CI and not reachable at {url}")
    return url if ok else None


def test(extra: list[str], *, fast: bool = False) -> None:
    """Lint, types, layer contracts, the whole suite on PostgreSQL, then on SQLite the
    modules whose code branches on the database, then the audit of the locked
    dependencies. ``fast``: lint, contracts and the tests that start no process, on
    one database (PostgreSQL when reachable, else SQLite)."""
    # The edit loop's subset leaves out every test that starts a process (worker,
    # manage.py, web server, Flower, redis-server, Chromium); the SQLite pass takes
    # the modules whose code branches on the database (tests/conftest.py).
    fast_tests = "not process"
    sqlite_tests = "both_databases and not process and not postgres"
    ensure_venv()
    if not fast:
        ensure_debian_tools()
    sh(BIN / "ruff", "check", ".")
    sh(BIN / "ruff", "format", "--check", ".")
    if not fast:
        sh(BIN / "mypy")
    sh(BIN / "lint-imports")  # the layer contracts of pyproject.toml (0.4 s)
    # The tests choose their database, broker and Flower: a developer's own
    # settings exported in the shell must not leak in (Celery reads CELERY_BROKER_URL
    # from the environment before its configuration).
    leaks = ("DATABASE_URL", "CELERY_", "FLOWER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leaks)}
    env.update(DJANGO_SETTINGS_MODULE="si_gouvernance.settings_test", ENV_FILE=os.devnull)
    pg = postgres_url()
    pytest = [PYTHON, "-m", "pytest"]
    if fast:
        where = "PostgreSQL" if pg else "SQLite"
        print(f"\n== Sous-ensemble rapide sur {where} (sans processus réels) ==", flush=True)
        sh(*pytest, "-m", fast_tests, *extra, env=dict(env, DATABASE_URL=pg) if pg else env)
    elif pg:
        print("\n== Suite complète sur PostgreSQL ==", flush=True)
        sh(*pytest, "--create-db", *extra, env=dict(env, DATABASE_URL=pg))
        print("\n== Modules propres à la base de données, sur SQLite ==", flush=True)
        sh(*pytest, "--create-db", "-m", sqlite_tests, *extra, env=env)
    else:
        print(
            "PostgreSQL absent : suite complète sur SQLite (tests PostgreSQL ignorés)", flush=True
        )
        sh(*pytest, "--create-db", *extra, env=env)
    if not fast:
        audit()


def audit() -> None:
    """pip-audit of both locks against PyPI's vulnerability data. A known vulnerability
    fails the run. A service that cannot answer is said loudly, never taken for a clean
    report (pip-audit alone says "no known vulnerabilities" about the packages it
    skipped), but does not fail the run: the machines this project is built on reach
    a PyPI mirror without the per-version JSON pages the audit reads, and a red CI
    for want of a network would stop every change. ``AUDIT_REQUIRED=true`` makes it
    fail (a build host that does reach pypi.org)."""
    found = audit_report()
    vulnerable = [dep for dep in found or [] if dep.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(vuln["id"] for vuln in dep["vulns"])
        print(f"Vulnérabilité connue : {dep['name']} {dep['version']} ({ids})", flush=True)
    if vulnerable:
        sys.exit("Audit : montez ces paquets dans les fichiers requirements/*.lock (README)")
    skipped = [dep for dep in found or [] if "skip_reason" in dep]
    if found and not skipped:
        return
    unchecked = f"{len(skipped)} paquets sur {len(found)}" if found else "aucun rapport"
    message = f"Audit des dépendances impossible, service de PyPI injoignable ({unchecked})"
    if os.environ.get("AUDIT_REQUIRED", "").lower() in ("1", "true", "yes"):
        sys.exit(message)
    print(f"ATTENTION : {message}", flush=True)


def audit_report() -> list[dict[str, Any]] | None:
    """pip-audit's JSON list of dependencies, or None when it wrote none."""
    locks = [arg for lock in (PROD_LOCK, DEV_LOCK) for arg in ("-r", lock)]
    options = ["-s", "pypi", "--require-hashes", "--disable-pip", "--progress-spinner", "off"]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "pip-audit.json"
        sh(BIN / "pip-audit", *options, *locks, "-f", "json", "-o", report, check=False)
        try:
            found: list[dict[str, Any]] = json.loads(report.read_text("utf-8"))["dependencies"]
        except (OSError, ValueError, KeyError):
            return None
    return found


def lock(extra: list[str]) -> None:
    """Resolve pyproject.toml again into both locks, for Linux and Windows alike.

    Without arguments, the pins stay and only what pyproject.toml changed moves;
    ``--upgrade`` takes the newest versions its ranges allow, ``--upgrade-package X``
    only X's."""
    ensure_venv()
    for target, extras in ((PROD_LOCK, []), (DEV_LOCK, ["--extra", "dev"])):
        sh(
            BIN / "uv",
            "pip",
            "compile",
            "pyproject.toml",
            *extras,
            "--universal",  # one file for every platform, with environment markers
            "--generate-hashes",
            "--python-version",
            "3.11",
            "--custom-compile-command",
            "python3.11 dev.py lock",
            "--quiet",
            "-o",
            target.relative_to(ROOT),
            *extra,
        )


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command == "run":
        run()
    elif command == "test":
        extra = sys.argv[2:]
        test([a for a in extra if a != "--fast"], fast="--fast" in extra)
    elif command == "install":
        ensure_venv()
    elif command == "lock":
        lock(sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    main()
