"""kombu's Redis transport, publishing through one redis-py client per channel.

kombu builds a new `redis.Redis` for every message it publishes (its channel's
`conn_or_acquire`), and building one copies redis-py's table of some 170 reply
parsers: that was most of the cost of handing a delivery to the broker after
each submission commits. A client is safe to share between threads (each
command takes a connection from the channel's pool), so this channel builds its
own once and reuses it; everything else is kombu's.

Used when REDIS_URL is a plain `redis://` address (config.settings).
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    _shared_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        # kombu replaces the channel's pool after a fork or a lost connection.
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
