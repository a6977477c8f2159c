"""The channel tests' fixtures: the local chat server, the Celery tests' worker, and
the alert emails' world (bob owns a late task, one due today and one due in two
days, in alice's project)."""

from tests.celery.conftest import start_worker, use_broker, worker_database  # noqa: F401
from tests.chat_server import chat_server  # noqa: F401
from tests.emails.test_alert_emails import alerting_world  # noqa: F401
