"""SI-Gouvernance project package: configuration only (settings, urls, Celery app)."""

from si_gouvernance.celery import app as celery_app

__all__ = ("celery_app",)
