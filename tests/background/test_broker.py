"""Publishing to Redis goes through kombu's own transport, one client per channel."""

import pytest
from django.conf import settings

from config import broker

pytestmark = pytest.mark.redis


def test_a_channel_publishes_through_one_client_and_the_message_arrives():
    from config.celery import app

    assert settings.CELERY_BROKER_TRANSPORT == "config.broker:Transport"
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        assert channel._create_client() is channel._create_client()
        queue = "licensing-broker-test"
        channel.queue_declare(queue=queue, auto_delete=True)
        try:
            channel.basic_publish(channel.prepare_message("hello"), exchange="", routing_key=queue)
            assert channel._size(queue) == 1
            message = channel.basic_get(queue, no_ack=True)
            assert message.body == b"hello"
        finally:
            channel.queue_delete(queue)
