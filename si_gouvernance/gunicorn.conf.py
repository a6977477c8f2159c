"""gunicorn's configuration, from the Django settings (so from the environment).

    python manage.py serve                                      # what the docs use
    gunicorn -c si_gouvernance/gunicorn.conf.py                  # the same, by hand

Only the settings module is read here (no app loading): WEB_BIND, WEB_WORKERS,
WEB_THREADS, WEB_TIMEOUT and the log files. Command-line flags still win.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "si_gouvernance.settings")

from django.conf import settings

wsgi_app = "si_gouvernance.wsgi:application"
bind = [settings.WEB_BIND]
workers = settings.WEB_WORKERS
threads = settings.WEB_THREADS  # above 1, gunicorn uses its gthread worker
timeout = settings.WEB_TIMEOUT
# SIGTERM (systemctl stop): requests in flight get this long to finish.
graceful_timeout = 30
# With WEB_THREADS > 1 (gthread worker), keep nginx's upstream connections open a
# little; the default sync worker closes each one after its response.
keepalive = 5
# Recycle a worker now and then: a slow leak never grows without bound. Not too
# often: a new worker starts Django again (about a second of CPU), and at the
# ~150 requests/s two cores serve, 2,000 meant a restart every 30 s per worker.
max_requests = 10000
max_requests_jitter = 1000
# X-Forwarded-Proto is trusted from the local reverse proxy only: gunicorn's
# default forwarded_allow_ips (127.0.0.1,::1; env FORWARDED_ALLOW_IPS).
proc_name = "si-gouvernance-web"
# No gunicornc control socket (gunicorn >= 25.1): it would live in $HOME, shared
# by every gunicorn of the user; systemctl and signals are the controls here.
control_socket_disable = True

# The line of waitress' log (core/access_log.py): the peer, the client's address
# (core.client_ip: CLIENT_IP_HEADER only from TRUSTED_PROXIES), ..., the duration
# in ms. RedactingLogger hides token/key parameters and reset-link tokens.
logger_class = "core.gunicorn_access_log.RedactingLogger"
access_log_format = '%(h)s %(client_ip)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
# The access log in logs/access.log (same file and rotation as waitress's);
# gunicorn's own messages in the console (journald) and logs/si_gouvernance.log.
logging_config: dict[str, Any] = settings.LOGGING
handlers: dict[str, Any] = logging_config["handlers"]
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": logging_config["formatters"],
    "handlers": {name: handlers[name] for name in ("console", "file", "access")},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "gunicorn.error": {"level": "INFO", "handlers": ["console", "file"], "propagate": False},
    },
}
