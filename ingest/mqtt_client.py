"""paho's MQTT client with a read buffer and acknowledgements sent together."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

log = logging.getLogger(__name__)

READ_SIZE = 65_536


class BufferedClient(mqtt.Client):
    """paho reads a packet in three or more ``recv`` calls (its command byte, each byte of its
    length, then its body) and writes each PUBACK with its own ``send``: several system calls a
    message, which cost ingest as much as decoding it. This client reads what the socket holds
    (up to 64 KiB) at once and serves paho's reads from it; inside ``corked()``, what paho sends
    is gathered and leaves in one ``send`` at the end.

    The buffer is invisible to ``select``: a loop must read while ``pending()`` is not zero.
    Both buffers belong to one connection and are dropped with its socket: unread messages and
    unsent acknowledgements are the broker's to send again, as for any lost connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buffer = bytearray()
        self._write_buffer = bytearray()
        self._corked = False

    def pending(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._read_buffer)

    @contextmanager
    def corked(self) -> Iterator[None]:
        """Gather what is sent inside the block into one write at its end."""
        self._corked = True
        try:
            yield
        finally:
            self._corked = False
            self._flush()

    def want_write(self) -> bool:
        return bool(self._write_buffer) or super().want_write()

    def loop_write(self) -> MQTTErrorCode:
        if not self._flush():
            return MQTTErrorCode.MQTT_ERR_SUCCESS  # the socket is full: select says when
        return super().loop_write()

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer = self._read_buffer
        if not buffer:
            data = super()._sock_recv(READ_SIZE)  # BlockingIOError and the rest pass to paho
            if len(data) <= bufsize:  # also b"": the connection closed
                return data
            buffer += data
        out = bytes(buffer[:bufsize])
        del buffer[:bufsize]  # cheap from the front: a bytearray moves its start
        return out

    def _sock_send(self, buf: bytes | bytearray) -> int:
        if self._corked:
            self._write_buffer += buf
            return len(buf)
        if self._write_buffer and not self._flush():
            raise BlockingIOError  # TCP keeps order: paho holds its packet until we are through
        return super()._sock_send(buf)

    def _flush(self) -> bool:
        """Send the gathered bytes; False while the socket cannot take them all."""
        buffer = self._write_buffer
        while buffer:
            try:
                sent = super()._sock_send(buffer)
            except BlockingIOError:
                return False
            except (OSError, ConnectionError) as exc:
                # The connection is gone: paho finds out on its next read and reconnects; the
                # broker sends the unacknowledged messages again.
                log.debug("acknowledgements not sent, connection lost: %s", exc)
                buffer.clear()
                return True
            del buffer[:sent]
        return True

    def _sock_close(self) -> None:
        self._read_buffer.clear()
        self._write_buffer.clear()
        super()._sock_close()
