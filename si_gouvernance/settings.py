"""Settings of SI-Gouvernance, read from the environment (and a ``.env`` file).

Django's part is ``settings_django``, Celery's ``settings_celery``. A value that
cannot be used stops start-up, of ``manage.py``, the web server, the worker and
beat alike, with one line naming the variable and no traceback.
"""

from si_gouvernance.env import exit_on_bad_settings

with exit_on_bad_settings():
    from si_gouvernance.settings_celery import *  # noqa: F403
    from si_gouvernance.settings_django import *  # noqa: F403
