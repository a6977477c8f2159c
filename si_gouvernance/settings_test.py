"""Test settings: the real settings, with fast hashing, in-memory email, eager Celery.

Tests that need a real worker, SMTP server or browser start them and override
what they need; they never rely on eager mode.
"""

from si_gouvernance.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The tests' chat server listens on 127.0.0.1 (tests/chat_server.py).
CHANNEL_ALLOW_PRIVATE_ADDRESSES = True
