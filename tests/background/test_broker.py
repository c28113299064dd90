"""Publishing to Redis goes through kombu's stock transport, and the message arrives."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.redis


def test_a_message_published_to_redis_arrives():
    from config.celery import app

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with app.connection_for_write() as connection:
        assert connection.transport_cls == "redis"
        queue = connection.SimpleQueue("licensing-broker-test")
        try:
            queue.put("hello")
            assert queue.get(timeout=5).payload == "hello"
        finally:
            queue.queue.delete()
            queue.close()
