"""Labels of third-party apps shown in the admin, listed for our French catalogue.

django-celery-results ships no French translation, and django-celery-beat's has
gaps and slips. Our catalogue (LOCALE_PATHS) comes first in Django's lookup, so
translating the same msgids there is enough; listing them here is what keeps
``makemessages`` from dropping them as obsolete. Never imported at run time.
"""

from django.utils.translation import gettext_noop

LABELS = [
    # django_celery_beat
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("solar events"),
    gettext_noop("Interval Period"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    # django_celery_results
    gettext_noop("Celery Results"),
    gettext_noop("task result"),
    gettext_noop("task results"),
    gettext_noop("group result"),
    gettext_noop("group results"),
    gettext_noop("Task ID"),
    gettext_noop("Task Name"),
    gettext_noop("Periodic Task Name"),
    gettext_noop("Task State"),
    gettext_noop("Worker"),
    gettext_noop("Created DateTime"),
    gettext_noop("Started DateTime"),
    gettext_noop("Completed DateTime"),
    gettext_noop("Result Content Type"),
    gettext_noop("Result Encoding"),
    gettext_noop("Task Positional Arguments"),
    gettext_noop("Task Named Arguments"),
    gettext_noop("Result Data"),
    gettext_noop("Traceback"),
    gettext_noop("Task Meta Information"),
    gettext_noop("Group ID"),
    gettext_noop("Parameters"),
    gettext_noop("Result"),
    gettext_noop("Celery ID for the Task that was run"),
    gettext_noop("Name of the Task which was run"),
    gettext_noop("Name of the Periodic Task which was run"),
    gettext_noop("Current state of the task being run"),
    gettext_noop("Worker that executes the task"),
    gettext_noop("Datetime field when the task result was created in UTC"),
    gettext_noop("Datetime field when the task was started in UTC"),
    gettext_noop("Datetime field when the task was completed in UTC"),
    gettext_noop("Text of the traceback if the task generated one"),
    gettext_noop("Celery ID for the Group that was run"),
    gettext_noop("Content type of the result data"),
    gettext_noop("The encoding used to save the task result data"),
]
