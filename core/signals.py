"""Domain events: what the business services announce, for others to act on.

Services know nothing of the job runner; the job machinery (``core.jobs.dispatch``)
listens and starts the matching Celery work once the transaction commits.
"""

from django.dispatch import Signal

# Outbox rows were written in the current transaction. Argument: ``count``.
emails_queued = Signal()

# Channel messages (core.models.MessageCanal) were written in the current
# transaction. Argument: ``count``.
channel_messages_queued = Signal()
