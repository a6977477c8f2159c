"""Settings come from the environment through one strict reader."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from si_gouvernance import env
from tests.processes import dev_py_module, manage_py, project_env

ROOT = Path(settings.BASE_DIR)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("OUI", True), ("1", True), (" on ", True), ("false", False), ("non", False)],
)
def test_booleans_accept_the_usual_spellings(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["ouii", "2", "enabled"])
def test_a_bad_boolean_is_an_error_naming_the_variable(monkeypatch, raw: str) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match=f"SOME_FLAG={raw!r}"):
        env.env_bool("SOME_FLAG", False)


def test_unset_variables_take_their_default(monkeypatch) -> None:
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env.env_bool("SOME_FLAG", True) is True
    assert env.env_int("SOME_FLAG", 3) == 3
    assert env.env_list("SOME_FLAG", ["a"]) == ["a"]


def test_integers_are_parsed_and_checked(monkeypatch) -> None:
    monkeypatch.setenv("SOME_INT", "12")
    assert env.env_int("SOME_INT", 0, minimum=1) == 12
    monkeypatch.setenv("SOME_INT", "douze")
    with pytest.raises(ImproperlyConfigured, match="SOME_INT"):
        env.env_int("SOME_INT", 0)
    monkeypatch.setenv("SOME_INT", "0")
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        env.env_int("SOME_INT", 5, minimum=1)


def test_lists_split_on_commas(monkeypatch) -> None:
    monkeypatch.setenv("SOME_LIST", " a.example.org, b.example.org ,,")
    assert env.env_list("SOME_LIST", []) == ["a.example.org", "b.example.org"]
    monkeypatch.setenv("SOME_LIST", "2,1")
    assert env.env_int_list("SOME_LIST", []) == [2, 1]
    monkeypatch.setenv("SOME_LIST", "2,un")
    with pytest.raises(ImproperlyConfigured, match="SOME_LIST"):
        env.env_int_list("SOME_LIST", [])


def test_networks_are_addresses_or_cidr(monkeypatch) -> None:
    monkeypatch.setenv("SOME_PROXIES", " 127.0.0.1 , 10.4.0.0/16,::1 ")
    assert env.env_networks("SOME_PROXIES", []) == ["127.0.0.1/32", "10.4.0.0/16", "::1/128"]
    monkeypatch.setenv("SOME_PROXIES", "127.0.0.1,localhost")
    with pytest.raises(ImproperlyConfigured, match=r"SOME_PROXIES=.*'localhost'"):
        env.env_networks("SOME_PROXIES", [])


def test_env_file_is_read_but_the_real_environment_wins(monkeypatch, tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("FROM_FILE_ONLY=file\nBOTH_PLACES=file\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    monkeypatch.setenv("BOTH_PLACES", "process")
    monkeypatch.delenv("FROM_FILE_ONLY", raising=False)

    env.load_env_file(tmp_path)

    assert os.environ["FROM_FILE_ONLY"] == "file"
    assert os.environ["BOTH_PLACES"] == "process"
    monkeypatch.delenv("FROM_FILE_ONLY")


@pytest.mark.process
def test_defaults_are_safe_and_embedded(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL.split(':')[0],"
        " s.TIME_ZONE, s.LANGUAGE_CODE, s.USE_TZ)"
    )
    done = manage_py(tmp_path, "shell", "--no-imports", "-c", code)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "False",
        "django.db.backends.sqlite3",
        "sqla+sqlite",
        "Europe/Paris",
        "fr",
        "True",
    ]
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.process
def test_bad_boolean_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    done = manage_py(tmp_path, "check", DEBUG="ouii")

    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "Configuration invalide : DEBUG='ouii' : booléen attendu "
        "(true/false, 1/0, yes/no, on/off, oui/non)"
    ]


@pytest.mark.process
def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    code = "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
    done = manage_py(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        code,
        DATABASE_URL="postgres://u:p@db.example.org:5432/gouv",
    )

    assert done.stdout.strip() == "django.db.backends.postgresql", done.stderr


@pytest.mark.process
def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    done = manage_py(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECURE="true",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECRET_KEY_REQUIRED="true",
        ALLOWED_HOSTS="gouvernance.example.org",
        SITE_URL="https://gouvernance.example.org",  # links in emails (core.W001)
        HEALTH_TOKEN=secrets.token_urlsafe(20),  # else /health/ is public (core.W003)
    )

    assert done.returncode == 0, done.stderr + done.stdout


@pytest.mark.process
def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    done = manage_py(tmp_path, "check", SECRET_KEY_REQUIRED="true")

    assert done.returncode != 0 and "SECRET_KEY" in done.stderr


@pytest.mark.process
@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"DATABASE_URL": "garbage"}, "DATABASE_URL='garbage'"),
        ({"DEADLINE_ALERT_DAYS": ","}, "DEADLINE_ALERT_DAYS=','"),
        ({"DEADLINE_ALERT_DAYS": "100000000"}, "DEADLINE_ALERT_DAYS=100000000"),
        ({"EMAIL_PORT": "99999"}, "EMAIL_PORT=99999"),
        ({"CELERY_BROKER_CONNECTION_MAX_RETRIES": "-1"}, "CELERY_BROKER_CONNECTION_MAX_RETRIES"),
        ({"EMAIL_MAX_ATTEMPTS": "-3"}, "EMAIL_MAX_ATTEMPTS=-3"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
        ({"CELERY_BROKER_URL": "redis//oops"}, "CELERY_BROKER_URL='redis//oops'"),
        ({"SITE_URL": "gouvernance.example.org"}, "SITE_URL="),
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_TLS et EMAIL_USE_SSL"),
        ({"TRUSTED_PROXIES": "127.0.0.1,proxy.lan"}, "TRUSTED_PROXIES='127.0.0.1,proxy.lan'"),
        ({"TRUSTED_PROXIES": "10.0.0.1/8"}, "TRUSTED_PROXIES='10.0.0.1/8'"),
        ({"AXES_IP_FAILURE_LIMIT": "0"}, "AXES_IP_FAILURE_LIMIT=0"),
        ({"HEALTH_WORKER_MAX_AGE_MINUTES": "cinq"}, "HEALTH_WORKER_MAX_AGE_MINUTES"),
        ({"API_THROTTLE_RATE": "beaucoup"}, "API_THROTTLE_RATE='beaucoup'"),
        # The orderings that keep a task from running twice or never.
        (
            {"CELERY_TASK_SOFT_TIME_LIMIT": "400", "CELERY_TASK_TIME_LIMIT": "360"},
            "CELERY_TASK_SOFT_TIME_LIMIT=400 doit être inférieur à CELERY_TASK_TIME_LIMIT=360",
        ),
        (
            {"CELERY_VISIBILITY_TIMEOUT": "200"},
            "CELERY_TASK_TIME_LIMIT=360 doit être inférieur à CELERY_VISIBILITY_TIMEOUT=200",
        ),
        (
            {"JOB_RETRY_DELAY_S": "2000"},
            "JOB_RETRY_DELAY_S=2000 doit être inférieur à CELERY_VISIBILITY_TIMEOUT=1800",
        ),
        ({"CELERY_VISIBILITY_TIMEOUT": "7200"}, "CELERY_VISIBILITY_TIMEOUT=7200 doit être"),
    ],
)
def test_every_bad_environment_value_is_one_line_naming_it(tmp_path, variables, named):
    done = manage_py(tmp_path, "check", **variables)

    assert done.returncode != 0
    [line] = done.stderr.splitlines()
    assert line.startswith("Configuration invalide : ") and named in line


@pytest.mark.process
@pytest.mark.parametrize("program", ["worker", "beat"])
def test_worker_and_beat_stop_on_a_bad_value_with_the_same_line(tmp_path, program):
    dev_py_module().ensure_secret_key(tmp_path / "var")
    env = project_env(tmp_path, clean=True, EMAIL_PORT="99999")
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "si_gouvernance", program],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "Configuration invalide : EMAIL_PORT=99999 : doit être <= 65535"
    ]


@pytest.mark.process
def test_reading_the_settings_writes_no_file(tmp_path):
    dev_py_module().ensure_secret_key(tmp_path / "var")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = "from django.conf import settings as s; print(s.DEBUG, s.LOG_DIR)"
    env = project_env(tmp_path, clean=True)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.process
def test_the_old_beat_scheduler_name_is_a_clear_error(tmp_path):
    """Renamed in 2026-12 (core.jobs.scheduler became core.jobs.beat_rows): an old
    .env says so in one line instead of an ImportError at beat start."""
    result = manage_py(
        tmp_path, "check", CELERY_BEAT_SCHEDULER="core.jobs.scheduler:SyncingDatabaseScheduler"
    )

    assert result.returncode != 0
    assert "core.jobs.beat_rows:BeatScheduler" in result.stderr
