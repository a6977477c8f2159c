"""The channel tests' fixtures: the local chat server, and the alert emails' world
(bob owns a late task, one due today and one due in two days, in alice's project)."""

from tests.chat_server import chat_server  # noqa: F401
from tests.emails.test_alert_emails import alerting_world  # noqa: F401
