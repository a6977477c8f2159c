"""Celery's settings (every ``CELERY_*`` variable), read from the environment.

With nothing set, the broker is Celery's SQLAlchemy transport on a SQLite file:
no server to run. The periodic jobs themselves are declared in
``core.jobs.registry``; the times below are checked against them at start-up.
"""

from __future__ import annotations

from core.jobs.registry import DAILY_EXPIRES_S
from si_gouvernance.env import SettingsError, env_bool, env_int, env_str, env_url
from si_gouvernance.settings_django import TIME_ZONE, VAR_DIR, ensure_directory_of

CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}",
    schemes=("redis", "rediss", "amqp", "amqps", "pyamqp", "sqla+", "memory"),
)
SQLITE_BROKER = "sqla+sqlite:///"
if CELERY_BROKER_URL.startswith(SQLITE_BROKER):
    ensure_directory_of(CELERY_BROKER_URL.removeprefix(SQLITE_BROKER))
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "django-db")
if CELERY_RESULT_BACKEND == "django-db":
    # django-celery-results' table, whose writes never fail a task (core.jobs.results,
    # installed under this name in si_gouvernance/celery.py): a write is retried a
    # few times (about 3 s in all), then given up.
    CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
    CELERY_RESULT_BACKEND_MAX_RETRIES = 4
    CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 200
    CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 2000
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = env_int(
    "CELERY_RESULT_EXPIRES", 7 * 24 * 3600, minimum=60, maximum=366 * 24 * 3600
)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = env_bool("CELERY_TASK_ACKS_LATE", True)
CELERY_TASK_REJECT_ON_WORKER_LOST = env_bool("CELERY_TASK_REJECT_ON_WORKER_LOST", True)
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int(
    "CELERY_WORKER_PREFETCH_MULTIPLIER", 1, minimum=1, maximum=1000
)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int(
    "CELERY_WORKER_MAX_TASKS_PER_CHILD", 100, minimum=1, maximum=1_000_000
)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task running when the broker connection drops is cancelled and, being acked
# late, redelivered: the deadline engine's unique key makes the rerun harmless.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Celery's consumer, which with Celery/kombu 5.7 stops the worker when Redis dies
# under a running task, made to survive it (core.jobs.broker_loss). Read from the
# environment so that a test can pin the bug with Celery's own.
CELERY_WORKER_CONSUMER = env_str(
    "CELERY_WORKER_CONSUMER", "core.jobs.broker_loss:BrokerLossConsumer"
)
CELERY_BROKER_CONNECTION_MAX_RETRIES = env_int(
    "CELERY_BROKER_CONNECTION_MAX_RETRIES", 100, minimum=0, maximum=100_000
)
# A periodic job failing on the database or the broker is retried 3 times, this
# many seconds apart (core.tasks); beyond that the catch-up takes over.
JOB_RETRY_DELAY_S = env_int("JOB_RETRY_DELAY_S", 300, minimum=1)
# A daily job not done this long after its planned time is run by the catch-up
# (beat's own message may still wait in the queue just after the planned time).
CATCH_UP_GRACE_MINUTES = env_int("CATCH_UP_GRACE_MINUTES", 10, minimum=0, maximum=120)
# Redis redelivers a task whose worker died after this delay. Only for Redis (and
# SQS): the SQLAlchemy transport hands its options to create_engine(), which
# rejects unknown keywords, so it gets none.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=1)


def _check_timing() -> None:
    """The orderings that keep a task from running twice or never.

    soft limit < hard limit: the task may stop cleanly before it is killed;
    hard limit and retry delay < visibility timeout: Redis would hand a live or
    waiting task to a second worker; visibility timeout < daily expiry: the
    redelivered 08:00 check would arrive expired and be dropped.
    """
    soft = ("CELERY_TASK_SOFT_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT)
    hard = ("CELERY_TASK_TIME_LIMIT", CELERY_TASK_TIME_LIMIT)
    visibility = ("CELERY_VISIBILITY_TIMEOUT", CELERY_VISIBILITY_TIMEOUT)
    retry = ("JOB_RETRY_DELAY_S", JOB_RETRY_DELAY_S)
    expiry = ("l'expiration des travaux quotidiens", DAILY_EXPIRES_S)
    pairs = [(soft, hard), (hard, visibility), (retry, visibility), (visibility, expiry)]
    for (low_name, low), (high_name, high) in pairs:
        if not low < high:
            raise SettingsError(
                f"{low_name}={low} doit être inférieur à {high_name}={high} "
                "(voir docs/operations.md, « Limites de temps »)."
            )


_check_timing()
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if CELERY_BROKER_URL.startswith("sqla+")
    else {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = env_str("CELERY_BEAT_SCHEDULER", "core.jobs.beat_rows:BeatScheduler")
if CELERY_BEAT_SCHEDULER == "core.jobs.scheduler:SyncingDatabaseScheduler":  # before 2026-12
    raise SettingsError(
        "CELERY_BEAT_SCHEDULER : core.jobs.scheduler:SyncingDatabaseScheduler a été "
        "renommé core.jobs.beat_rows:BeatScheduler (ou retirez la variable)"
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
