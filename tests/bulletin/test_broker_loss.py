"""A Redis broker that goes away while the worker holds a task: the worker stays up and carries on.

Each test starts its own ``redis-server`` on a free port (tests.workers.RedisServer) and
stops it with SIGKILL; the shared Redis on 6379 is never touched.
"""

import pytest
from celery import Celery
from kombu import Connection

from sanhui.celery import app
from tests.workers import redis_server, start_worker, wait_until  # noqa: F401 - fixtures

DEADLINE = 60


def publisher(url: str) -> Celery:
    """A client of the private broker, sending tasks by name as the web process would."""
    return Celery("broker-loss-test", broker=url, set_as_current=False)


@pytest.mark.redis
def test_closing_a_channel_after_its_connection_is_gone_does_not_raise(redis_server):  # noqa: F811
    # What the consumer does on a lost connection: the kombu Connection is closed first
    # (transport.client becomes None, the pool is dropped), the channel afterwards, and
    # closing the channel restores its unacknowledged messages. Unpatched kombu 5.7 raises
    # AttributeError: 'NoneType' object has no attribute 'hostname' here.
    assert app is not None  # importing sanhui.celery applies the work-around
    with Connection(redis_server.url) as conn:
        channel = conn.channel()
        channel.queue_declare("q")
        channel.basic_publish(channel.prepare_message("x"), exchange="", routing_key="q")
        assert channel.basic_get("q", no_ack=False) is not None
        assert len(channel.qos._delivered) == 1
        channel._pool = None
        channel.connection.client = None

        channel.qos.restore_unacked_once()

        assert len(channel.qos._delivered) == 0


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_redis_stopping_mid_task_and_runs_the_tasks_sent_after_its_restart(
    start_worker,  # noqa: F811
    redis_server,  # noqa: F811
    tmp_path,
):
    # As bin/serve and the systemd unit run it (heartbeat, mingle and gossip on): more channels to lose.
    worker = start_worker(extra_env={"REDIS_URL": redis_server.url}, lean=False)
    client = publisher(redis_server.url)

    for stop in range(3):  # the audit saw the worker exit on 4 of 6 stops
        name = f"held-{stop}"
        client.send_task("tests.worker_gates.blocked", args=[name])
        wait_until((tmp_path / f"{name}.entered").exists, timeout=DEADLINE, message=worker.log)

        lost = worker.log.count("Connection to broker lost")
        redis_server.stop()
        (tmp_path / f"{name}.release").write_text("")  # the task finishes while the broker is away
        wait_until((tmp_path / f"{name}.done").exists, timeout=DEADLINE, message=worker.log)
        wait_until(
            lambda lost=lost: worker.log.count("Connection to broker lost") > lost or worker.proc.poll() is not None,
            timeout=DEADLINE,
            message=worker.log,
        )
        redis_server.start()

        after = f"after-{stop}"
        client.send_task("tests.worker_gates.mark", args=[after])
        wait_until(
            lambda after=after: (tmp_path / f"{after}.done").exists() or worker.proc.poll() is not None,
            timeout=DEADLINE,
            message=worker.log,
        )
        assert worker.proc.poll() is None, f"the worker exited after broker stop {stop + 1}:\n{worker.log}"
        assert (tmp_path / f"{after}.done").exists()

    assert "Unrecoverable error" not in worker.log
