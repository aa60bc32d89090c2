import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanhui.settings")

logger = logging.getLogger(__name__)

app = Celery("sanhui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _survive_restore_after_broker_loss() -> None:
    """Keep the worker alive when Redis goes away while it holds unacknowledged messages.

    On a lost connection the consumer closes the kombu Connection, which sets the
    transport's ``client`` to None; the channel is closed after that, and closing it
    restores the unacknowledged messages (``QoS.restore_unacked_once``), which builds a
    new Redis client from ``transport.client.hostname``: "Unrecoverable error:
    AttributeError: 'NoneType' object has no attribute 'hostname'", and the worker
    (with an embedded beat) exits. Whether the pool was already dropped decides it,
    so it happened on some broker stops and not others (kombu issue 970 reported the
    same path at shutdown; still there in kombu 5.7). Restoring cannot work without a
    connection anyway: the messages stay in Redis's unacked hash, which Redis hands
    out again after the visibility timeout, and the outbox and evidence sweeps redo
    the work before that. So the restore is skipped, with a warning, when the
    connection is already gone.
    """
    try:
        from kombu.transport import redis as kombu_redis
    except ImportError:  # redis-py not installed: the filesystem broker has no such path
        return
    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "_sanhui_patched", False):
        return

    def restore_unacked(self, client=None):
        transport = getattr(self.channel, "connection", None)
        if client is None and getattr(transport, "client", None) is None:
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) left in Redis "
                "until its visibility timeout; the sweeps redo their work meanwhile",
                len(self._delivered),
            )
            self._delivered.clear()
            return None
        return original(self, client)

    restore_unacked._sanhui_patched = True
    kombu_redis.QoS.restore_unacked = restore_unacked


_survive_restore_after_broker_loss()
