"""Django's settings for SI-Gouvernance, read from the environment (and ``.env``).

With nothing set, the application runs on one machine with no external service:
SQLite for data, the console email backend, DEBUG off. Every variable is
documented in the README. The one thing written to disk here is the directory of
a SQLite file when it is missing (``var/`` on a fresh checkout, whatever the route:
``manage.py``, the web server, Celery); ``python dev.py`` creates the secret key,
the log handler its directory.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import csp.constants as csp

from si_gouvernance.env import (
    SettingsError,
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_int_list,
    env_list,
    env_networks,
    env_str,
    env_url,
    load_env_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(BASE_DIR)

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
LOG_DIR = Path(env_str("LOG_DIR", str(BASE_DIR / "logs")))

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else the one ``python dev.py`` generated
    once in ``var/secret_key`` (git-ignored: no secret is ever in the repository)."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    # Behind HTTPS (production) every host must share one key: sessions and
    # password-reset links would break between hosts with a key per machine.
    if env_bool("SECRET_KEY_REQUIRED", env_bool("DJANGO_SECURE", False)):
        raise SettingsError("SECRET_KEY est obligatoire en production (DJANGO_SECURE=true).")
    key_file = VAR_DIR / "secret_key"
    if not key_file.is_file():
        raise SettingsError(
            f"SECRET_KEY absente et {key_file} introuvable : définissez SECRET_KEY, "
            "ou lancez « python dev.py install » qui la génère."
        )
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so core/templates/registration/ overrides the admin's auth pages.
    "core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "django_celery_results",
    "csp",
    "axes",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A 403 is one log line (who, what, why), not a traceback.
    "core.middleware.ForbiddenLogMiddleware",
]

ROOT_URLCONF = "si_gouvernance.urls"
WSGI_APPLICATION = "si_gouvernance.wsgi.application"
ASGI_APPLICATION = "si_gouvernance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0, maximum=86400),
    )
}
# A connection kept between requests is checked before a request reuses it: after a
# PostgreSQL restart the first request reconnects instead of failing with a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails the request (and /health/) in seconds
    # instead of holding a web worker for the kernel's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=300
    )
    # No JIT compilation: PostgreSQL compiles a query it deems costly to machine code
    # first, seconds of compiling for queries that run in a fraction of one (the
    # portfolio's trend over 20,000 tasks: 3.5 s of JIT for 0.5 s of work).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")


def ensure_directory_of(path: str | Path) -> None:
    """The directory of an embedded file (SQLite database or broker), created when
    missing: otherwise SQLite says only "unable to open database file"."""
    directory = Path(path).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"impossible de créer le répertoire {directory}\u00a0: {exc}") from None


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if str(DATABASES["default"]["NAME"]) not in ("", ":memory:"):
        ensure_directory_of(DATABASES["default"]["NAME"])
    # WAL + a busy timeout let web, worker and beat share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -----------------------------------------------------
# One language: the DSI works in French, and the interface is French whatever
# the browser asks for (no LocaleMiddleware), like the emails. The source
# strings stay English, translated by locale/fr.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security (production: DJANGO_SECURE=true behind HTTPS) -------------------
SECURE = env_bool("DJANGO_SECURE", False)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 31536000 if SECURE else 0, minimum=0, maximum=2 * 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

CSRF_FAILURE_VIEW = "core.views.errors.csrf_failure"  # French, inside the layout

# --- Sign-in protection (django-axes) -------------------------------------------
# Too many failed sign-ins for one account from one address lock that pair out
# for a while; too many from one address across accounts (password spraying) lock
# that address out, for every account, for the same while. An administrator
# unlocks either in the admin ("Tentatives de connexion").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes requires
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
# Failures from one address, whatever the accounts, before that address is locked
# out (core.sign_in_lockout: axes has one limit for all its lockout parameters).
AXES_IP_FAILURE_LIMIT = env_int("AXES_IP_FAILURE_LIMIT", 30, minimum=1, maximum=100_000)
AXES_HANDLER = "core.sign_in_lockout.AddressLockoutHandler"
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1, maximum=7 * 24 * 60)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failures are logged with the address; the user name is masked there (it may be a
# password typed in the wrong field) and shown in the admin's list instead.
AXES_SENSITIVE_PARAMETERS = ["username"]
AXES_LOCKOUT_CALLABLE = "core.views.sign_in.locked_out"
# Counted without case or surrounding spaces, as the directory compares user names.
AXES_USERNAME_CALLABLE = "core.sign_in_lockout.lockout_username"
# The client's address (core.client_ip): behind a reverse proxy every request
# comes from the proxy, and the client's address is in the header the proxy sets
# (nginx: X-Real-IP $remote_addr, see deploy/). The header is read only when the
# TCP peer is one of TRUSTED_PROXIES: sent by anyone else it is ignored, or any
# client could choose the address the lockout counts.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "X-Real-IP" if SECURE else "")
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"

# --- Directory sign-in: Active Directory / LDAP (core.ldap_backend) ---------------
# Off while LDAP_SERVER_URI is empty. The directory's backend comes after
# ModelBackend: a local account signs in without waiting for the directory, and a
# directory account has no local password ModelBackend could accept. Every way in
# is behind axes' lockout, which comes first.
LDAP_SERVER_URI = env_url("LDAP_SERVER_URI", "", schemes=("ldap", "ldaps"))
LDAP_BIND_DN = env_str("LDAP_BIND_DN")
LDAP_BIND_PASSWORD = env_str("LDAP_BIND_PASSWORD")
LDAP_USER_SEARCH_BASE = env_str("LDAP_USER_SEARCH_BASE")
# %(user)s is the typed user name, escaped for LDAP filters. OpenLDAP: (uid=%(user)s).
LDAP_USER_FILTER = env_str("LDAP_USER_FILTER", "(sAMAccountName=%(user)s)")
LDAP_GROUP_SEARCH_BASE = env_str("LDAP_GROUP_SEARCH_BASE")
# Members of the first are staff (the admin, per their permissions), of the second in
# « Chefs de projet » (may create projects). Empty: the flag is left to the admin.
LDAP_STAFF_GROUP_DN = env_str("LDAP_STAFF_GROUP_DN")
LDAP_LEAD_GROUP_DN = env_str("LDAP_LEAD_GROUP_DN")
LDAP_START_TLS = env_bool("LDAP_START_TLS", False)
LDAP_CA_FILE = env_str("LDAP_CA_FILE")
# Seconds to connect, and to wait for each answer of the directory.
LDAP_TIMEOUT = env_int("LDAP_TIMEOUT", 5, minimum=1, maximum=120)
LDAP_FIRST_NAME_ATTRIBUTE = env_str("LDAP_FIRST_NAME_ATTRIBUTE", "givenName")
LDAP_LAST_NAME_ATTRIBUTE = env_str("LDAP_LAST_NAME_ATTRIBUTE", "sn")
LDAP_EMAIL_ATTRIBUTE = env_str("LDAP_EMAIL_ATTRIBUTE", "mail")
if LDAP_SERVER_URI:
    AUTHENTICATION_BACKENDS.append("core.ldap_backend.LDAPBackend")

# --- Sign-in with an identity provider: OpenID Connect (core.oidc) ----------------
# Off while OIDC_CLIENT_ID is empty: no button, no URL, no backend. The provider's
# endpoints come from OIDC_ISSUER's discovery document (fetched at the first sign-in
# with it, never at start-up), or are set one by one (an endpoint set wins).
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME")  # the button: « Se connecter avec … »
OIDC_ISSUER = env_url("OIDC_ISSUER", "", schemes=("http", "https"))
# mozilla-django-oidc's names (OIDC_OP_*, OIDC_RP_*), read from the README's ones.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_url(
    "OIDC_AUTHORIZATION_ENDPOINT", "", schemes=("http", "https")
)
OIDC_OP_TOKEN_ENDPOINT = env_url("OIDC_TOKEN_ENDPOINT", "", schemes=("http", "https"))
OIDC_OP_USER_ENDPOINT = env_url("OIDC_USERINFO_ENDPOINT", "", schemes=("http", "https"))
OIDC_OP_JWKS_ENDPOINT = env_url("OIDC_JWKS_URI", "", schemes=("http", "https"))
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_EMAIL_CLAIM = env_str("OIDC_EMAIL_CLAIM", "email")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# Members of the first are staff, of the second in « Chefs de projet » (may create
# projects). Empty: the flag is left to the admin.
OIDC_STAFF_GROUP = env_str("OIDC_STAFF_GROUP")
OIDC_LEAD_GROUP = env_str("OIDC_LEAD_GROUP")
# Seconds to wait for each answer of the provider (the library waits forever).
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 5, minimum=1, maximum=120)
OIDC_RP_SIGN_ALGO = "RS256"  # checked against the provider's JWKS
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_AUTHENTICATE_CLASS = "core.views.oidc.AuthenticateView"
OIDC_CALLBACK_CLASS = "core.views.oidc.CallbackView"
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("core.oidc.OIDCBackend")
# axes keeps each failed attempt's query string: not the provider's one-time code.
AXES_SENSITIVE_PARAMETERS.append("code")

# --- HTTP health check (/health/, for the supervision tool) ---------------------
# When set, /health/ answers only with this token: the header "Authorization:
# Bearer <token>"; "?token=<token>" (for tools that cannot send headers) only
# without DJANGO_SECURE, since a query string ends up in access logs and proxies'.
# Empty, /health/ is public (check --deploy warns with DJANGO_SECURE).
HEALTH_TOKEN = env_str("HEALTH_TOKEN")
# A supervision agent on the web server itself may poll gunicorn over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# The outbox is unhealthy when an email has waited longer than this (minutes).
HEALTH_OUTBOX_MAX_AGE_MINUTES = env_int(
    "HEALTH_OUTBOX_MAX_AGE_MINUTES", 60, minimum=1, maximum=7 * 24 * 60
)
# Unhealthy when no worker has written its heartbeat (every minute) for this long.
HEALTH_WORKER_MAX_AGE_MINUTES = env_int(
    "HEALTH_WORKER_MAX_AGE_MINUTES", 5, minimum=2, maximum=24 * 60
)

# Content-Security-Policy on every response (django-csp): scripts, styles, images,
# fonts and requests from this site only; no inline script, style or eval (htmx's
# inline indicator style and eval are turned off in base.html). The admin needs
# nothing more (tests/web/test_browser.py). Emails keep their inline styles: they
# are not web pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.NONE],
        "object-src": [csp.NONE],
    },
}

# --- REST API (core.api, /api/v1/) -------------------------------------------------
# Requests per personal token (or per session), in DRF's notation ("600/min",
# "10/s", "20000/day"); counted in the default cache, so per web process unless
# CACHES names a shared one.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
if not re.fullmatch(r"[1-9]\d{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise SettingsError(
        f"API_THROTTLE_RATE={API_THROTTLE_RATE!r} : attendu un nombre de requêtes par "
        "période, par exemple 600/min, 10/s, 20000/day."
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a request without credentials gets 401 with WWW-Authenticate: Bearer.
        "core.api.authentication.BearerTokenAuthentication",
        # The signed-in browser (the documentation); writes need the CSRF token.
        "core.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pages",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.Schema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # No OPTIONS metadata: it would describe the views by their (English) docstrings;
    # the OpenAPI document describes them.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API SI-Gouvernance",
    "DESCRIPTION": (
        "Projets, tâches, notifications et portefeuille de la DSI, pour les scripts et "
        "les outils. Authentification par jeton personnel (en-tête Authorization, "
        "schéma Bearer), créé sur la page Préférences. Chacun ne voit que ce que les "
        "pages lui montrent\u00a0; les écritures suivent les mêmes règles."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StatutTacheEnum": "core.models.projects.Tache.Statut",
        "StatutProjetEnum": "core.models.projects.Projet.Statut",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_errors",
    ],
}

# --- Email ------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where the "filebased" backend writes (`dev.py run` uses it: one file per sending).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=600)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise SettingsError("EMAIL_USE_TLS et EMAIL_USE_SSL s'excluent : choisissez l'un des deux.")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SI-Gouvernance <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in emails. Without it, the address `dev.py run` serves (core.site_url).
SITE_URL = env_url("SITE_URL", "", schemes=("http", "https")).rstrip("/")
# How many times an outgoing email is tried before it is marked as failed.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 5, minimum=1, maximum=100)
# Team channels (core.services.channel_delivery): how many times a message is posted
# before it is marked as failed, and how long one post may take (seconds).
CHANNEL_MAX_ATTEMPTS = env_int("CHANNEL_MAX_ATTEMPTS", 5, minimum=1, maximum=100)
CHANNEL_TIMEOUT = env_int("CHANNEL_TIMEOUT", 10, minimum=1, maximum=600)
# A channel whose host is a loopback, private or link-local address (a server of
# the DSI's own network) is refused unless allowed here: anyone may add a personal
# channel, and the workers would post wherever it points.
CHANNEL_ALLOW_PRIVATE_ADDRESSES = env_bool("CHANNEL_ALLOW_PRIVATE_ADDRESSES", False)
# Administrators' defaults for users who have not chosen (None on the user).
NOTIFICATION_DEFAULT_ALERT_EMAILS = env_bool("NOTIFICATION_DEFAULT_ALERT_EMAILS", True)
NOTIFICATION_DEFAULT_SUMMARY_EMAILS = env_bool("NOTIFICATION_DEFAULT_SUMMARY_EMAILS", True)
# Which days are worked until an administrator chooses (core.working_days): "france"
# (weekends and public holidays), "alsace-moselle" (plus Good Friday and 26 December)
# or "aucun" (every day).
WORKING_DAYS_CALENDAR = env_choice(
    "WORKING_DAYS_CALENDAR", "france", ("france", "alsace-moselle", "aucun")
)

# --- Update limits (core.services.update_limits) ----------------------------------
# What one person may write into tasks' histories: at most TASK_UPDATE_LIMIT entries
# on one task per TASK_UPDATE_WINDOW_MINUTES, TASK_UPDATE_DAILY_LIMIT over 24 hours.
TASK_UPDATE_LIMIT = env_int("TASK_UPDATE_LIMIT", 10, minimum=1, maximum=10_000)
TASK_UPDATE_WINDOW_MINUTES = env_int("TASK_UPDATE_WINDOW_MINUTES", 10, minimum=1, maximum=24 * 60)
TASK_UPDATE_DAILY_LIMIT = env_int("TASK_UPDATE_DAILY_LIMIT", 100, minimum=1, maximum=100_000)

# --- Deadline rules -----------------------------------------------------------
# Days before the due date on which the owner gets an ALERTE_ECHEANCE.
DEADLINE_ALERT_DAYS = env_int_list("DEADLINE_ALERT_DAYS", [2, 1], minimum=1, maximum=365)
# While a task is late, ALERTE_RETARD is repeated every N days (1 = every day).
DEADLINE_LATE_REPEAT_DAYS = env_int("DEADLINE_LATE_REPEAT_DAYS", 1, minimum=1, maximum=365)
# Tasks due within this many days appear in the daily summary.
SUMMARY_LOOKAHEAD_DAYS = env_int("SUMMARY_LOOKAHEAD_DAYS", 7, minimum=1, maximum=365)
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 30, minimum=1, maximum=36500)
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 90, minimum=1, maximum=36500)
# --- Portfolio exports (core.services.portfolio_export_jobs) -----------------------
# Up to this many projects (matching the filters) an export is written in the
# request; above it, by a worker, offered in "My exports" and notified when ready.
PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS = env_int(
    "PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS", 2000, minimum=0, maximum=10_000_000
)
# A prepared export can be downloaded this many days; the weekly cleanup deletes it after.
PORTFOLIO_EXPORT_RETENTION_DAYS = env_int(
    "PORTFOLIO_EXPORT_RETENTION_DAYS", 7, minimum=1, maximum=366
)
# The health check fails when the daily check has not succeeded for this long.
HEALTH_MAX_AGE_HOURS = env_int("HEALTH_MAX_AGE_HOURS", 26, minimum=1, maximum=24 * 366)

# --- Flower -----------------------------------------------------------------------
FLOWER_URL = env_url("FLOWER_URL", "", schemes=("http", "https"))
# "user:password" (several: "u1:p1,u2:p2"); `manage.py run_flower` refuses to start
# without it unless FLOWER_DEV_MODE=true (a developer's machine only).
FLOWER_BASIC_AUTH = env_str("FLOWER_BASIC_AUTH")
FLOWER_DEV_MODE = env_bool("FLOWER_DEV_MODE", False)

# --- Logging -------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOG_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] %(name)s: %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": {"format": LOG_FORMAT}, "message": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "default"},
        # One line per HTTP request (gunicorn's access log, waitress through
        # core.access_log): the same file and rotation on both platforms.
        "access": {
            "class": "si_gouvernance.logging.RotatingFileHandler",
            "filename": str(LOG_DIR / "access.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "message",
            "encoding": "utf-8",
            "delay": True,
        },
        "file": {
            # Web, worker and beat may share a file: rotation must be process-safe
            # (and work on Windows, where a renamed open file is an error); the
            # handler creates LOG_DIR when it opens the file.
            "class": "si_gouvernance.logging.RotatingFileHandler",
            "filename": str(LOG_DIR / "si_gouvernance.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "default",
            "encoding": "utf-8",
            "delay": True,
        },
    },
    "root": {"handlers": ["console", "file"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
        "web.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        # Not a banner on every manage.py command; failures are still logged.
        "axes.apps": {"level": "WARNING"},
    },
}

# --- Web server (`manage.py serve`: gunicorn on Linux, waitress on Windows) -----
# Behind the reverse proxy (deploy/nginx), on the loopback by default.
WEB_BIND = env_str("WEB_BIND", "127.0.0.1:8000")
# Pages are CPU-bound Python. gunicorn: one process per core, each serving one
# request at a time (its "sync" worker; nginx in front buffers slow clients). With
# 20 clients on 2 cores (bench/web_load.py) that halves the p95 of 3 processes x 2
# threads: threads queue on the GIL, a third process on the cores. A database on
# another machine (network waits) is the case for more: WEB_WORKERS=2 x cores + 1.
# waitress (Windows) is a single process: its threads overlap the database waits.
WEB_WORKERS = env_int("WEB_WORKERS", max(2, os.cpu_count() or 1), minimum=1, maximum=256)
WEB_THREADS = env_int("WEB_THREADS", 4 if os.name == "nt" else 1, minimum=1, maximum=256)
# A request running longer than this is cut (gunicorn restarts its worker).
WEB_TIMEOUT = env_int("WEB_TIMEOUT", 60, minimum=1, maximum=3600)
