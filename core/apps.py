from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("IT project governance")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The deploy checks; the Celery tasks registered; the job machinery
        # listens to the services' events, to the worker and to beat's sends.
        from core import checks, tasks  # noqa: F401
        from core.jobs import dispatch, sent_day, worker_signals  # noqa: F401
