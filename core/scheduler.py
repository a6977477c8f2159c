"""Beat scheduler: django-celery-beat's database scheduler, placeholder until issue 3."""

from django_celery_beat.schedulers import DatabaseScheduler


class PreservingDatabaseScheduler(DatabaseScheduler):
    pass
