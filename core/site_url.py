"""The site's address, for the links of emails: ``SITE_URL``, else the address
``dev.py run`` serves (it writes it to ``var/site_url`` while it runs, where a
command run by hand in another shell reads it too), else http://localhost:8000."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

DEFAULT = "http://localhost:8000"
RUN_FILE = "site_url"


def site_url() -> str:
    """Without a trailing slash. The file is read at each call: a command or a
    worker started before ``dev.py run`` follows the address it serves now."""
    if settings.SITE_URL:
        return str(settings.SITE_URL)
    try:
        served = (Path(settings.VAR_DIR) / RUN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        served = ""
    return (served or DEFAULT).rstrip("/")
