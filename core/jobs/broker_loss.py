"""The worker's consumer, surviving a Redis broker killed while a task runs.

With Celery 5.7 / kombu 5.7, ``Consumer.on_connection_error_after_connected``
first ``collect()``s the broken connection, then ``close()``s it. ``collect()``
closes the Redis channel while its BRPOP is being read: the read fails on the dead
socket, the channel stays half open, and the connection drops its transport's
``client``. ``close()`` then closes that channel again, which restores the
unacknowledged messages through the missing client: ``AttributeError("'NoneType'
object has no attribute 'hostname'")``, not a connection error, so it escapes
Celery's handler and the worker stops ("Unrecoverable error"). It takes a task in
hand (a message to restore) and a free pool slot (the channel reading): an idle
worker, or one whose every process is busy, survives. Report and reproduction:
docs/upstream/celery-redis-kill.md.

The workaround, in this module only (installed by ``CELERY_WORKER_CONSUMER``): the
connection is closed first here, twice, ignoring every error, so that the channel
ends closed and Celery's own ``collect()``/``close()`` find nothing left to do; then
Celery's handler runs as usual (it cancels the acks-late task, which is redelivered,
and reconnects). ``tests/celery/test_broker_killed.py`` kills Redis under a busy
prefork worker and sees the same worker consume again.
"""

from __future__ import annotations

from contextlib import suppress

from celery.worker.consumer import Consumer

# Celery's own bound on a teardown read of a dead socket (COLLECT_SOCKET_TIMEOUT).
CLOSE_TIMEOUT_S = 2.0


class BrokerLossConsumer(Consumer):
    """Celery's consumer, closing a lost broker connection without crashing."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        connection = self.connection
        if connection is not None:
            # The first close fails in the channel's BRPOP read, the second in the
            # restore through the dropped client: the channel is closed after it.
            with suppress(Exception):
                connection.collect(socket_timeout=CLOSE_TIMEOUT_S)
            with suppress(Exception):
                connection.close()
        super().on_connection_error_after_connected(exc)
