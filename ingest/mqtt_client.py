"""paho's MQTT client with a read buffer, a lean PUBLISH path and acknowledgements sent together."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

log = logging.getLogger(__name__)

READ_SIZE = 65_536
_U16 = struct.Struct("!H")
_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id: paho's bytes exactly
# paho's private methods this client overrides: pyproject pins paho's minor version, and a test
# fails if one of them is gone.
OVERRIDDEN = ("_sock_recv", "_sock_send", "_sock_close", "_packet_read", "_handle_publish", "ack")


@dataclass(slots=True, repr=False)
class Received:
    """An incoming PUBLISH as the lean path hands it to ``on_message``: what paho's
    ``MQTTMessage`` says of it, but MQTT 5 properties (skipped, not decoded) and a timestamp."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool
    retain: bool

    def __repr__(self) -> str:
        return f"Received({self.topic!r}, {len(self.payload)} bytes, mid={self.mid})"


def _varint(data: bytes | bytearray, pos: int, end: int) -> tuple[int, int] | None:
    """An MQTT variable byte integer at ``pos`` and where it ends; None if it does not fit."""
    value, shift = 0, 0
    while pos < end and shift <= 21:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return None


class BufferedClient(mqtt.Client):
    """paho reads a packet in three or more ``recv`` calls (its command byte, each byte of its
    length, then its body) and writes each PUBACK with its own ``send``: several system calls a
    message, which cost ingest as much as decoding it. This client reads what the socket holds
    (up to 64 KiB) at once and serves paho's reads from it; inside ``corked()``, what paho sends
    is gathered and leaves in one ``send`` at the end.

    A QoS 0 or 1 PUBLISH is then taken whole from the buffer and parsed here (topic, packet id,
    MQTT 5 properties skipped by their length, payload) and handed to ``on_message`` as a
    ``Received``: paho builds a ``Properties`` object, an ``MQTTMessage`` and a debug line and
    runs its topic matcher for each, a sixth of the worker's time in a profile. QoS 2, an empty
    topic (an MQTT 5 alias), a topic that is not UTF-8, anything malformed, and every message
    once per-topic callbacks are registered, take paho's own path. With ``manual_ack`` nothing
    is acknowledged until ``ack``; inside ``corked()`` a QoS 1 ``ack`` writes paho's 4-byte
    PUBACK straight into the gathered bytes (paho queues a packet dict and runs its write loop
    for each). Neither path writes paho's per-packet debug log lines.

    The buffer is invisible to ``select``: a loop must read while ``pending()`` is not zero.
    Both buffers belong to one connection and are dropped with its socket: unread messages and
    unsent acknowledgements are the broker's to send again, as for any lost connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buffer = bytearray()
        self._write_buffer = bytearray()
        self._corked = False
        self._topic_callbacks = False

    def message_callback_add(self, sub: str, callback: mqtt.CallbackOnMessage) -> None:
        self._topic_callbacks = True  # from now on, paho's matcher chooses the callback
        super().message_callback_add(sub, callback)

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
            if self._write_buffer:
                with self._msgtime_mutex:  # what paho's write loop notes for its keepalive
                    self._last_msg_out = mqtt.time_func()
            self._flush()

    def ack(self, mid: int, qos: int) -> MQTTErrorCode:
        if (
            self._corked
            and qos == 1
            and self._manual_ack
            and self._sock is not None
            and not self._out_packet  # paho's queued packets leave first, as they would
        ):
            self._write_buffer += _PUBACK.pack(0x40, 2, mid)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super().ack(mid, qos)

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

    # -- the lean PUBLISH path ---------------------------------------------------------------------

    def _packet_read(self) -> MQTTErrorCode:
        """A whole QoS 0/1 PUBLISH at the front of the buffer is handled from it; paho's state
        machine reads anything else (and a packet that is not all here yet)."""
        buffer = self._read_buffer
        if len(buffer) < 2 or self._in_packet["command"] or buffer[0] & 0xF6 not in (0x30, 0x32):
            # not a PUBLISH of QoS 0 or 1 (0x30: PUBLISH; 0x06: its QoS bits; 0x09: dup, retain)
            return super()._packet_read()
        length = buffer[1]
        start = 2
        if length > 0x7F:
            header = _varint(buffer, 1, min(len(buffer), 5))
            if header is None:
                return super()._packet_read()
            length, start = header
        end = start + length
        if end > len(buffer):
            return super()._packet_read()
        message = self._parse_publish(buffer[0], buffer, start, end)
        if message is None:
            return super()._packet_read()  # paho decides (and says what is wrong)
        del buffer[:end]  # cheap from the front: a bytearray moves its start
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return self._deliver(message)

    def _handle_publish(self) -> MQTTErrorCode:
        """A PUBLISH that paho's state machine read (it came across two socket reads)."""
        packet = self._in_packet["packet"]
        message = self._parse_publish(self._in_packet["command"], packet, 0, len(packet))
        if message is None:
            return super()._handle_publish()
        return self._deliver(message)

    def _parse_publish(
        self, command: int, data: bytes | bytearray, pos: int, end: int
    ) -> Received | None:
        """The PUBLISH in ``data[pos:end]``; None if paho's path should take it."""
        qos = (command >> 1) & 3
        if qos > 1 or self._topic_callbacks or end - pos < 2 + 2 * qos:
            return None
        topic_end = pos + 2 + _U16.unpack_from(data, pos)[0]
        if topic_end == pos + 2 or topic_end + 2 * qos > end:
            return None  # no topic (an MQTT 5 alias, which we never allow), or malformed
        try:
            topic = data[pos + 2 : topic_end].decode()
        except UnicodeDecodeError:
            return None
        mid, pos = (_U16.unpack_from(data, topic_end)[0], topic_end + 2) if qos else (0, topic_end)
        if self._protocol == MQTTProtocolVersion.MQTTv5:
            # Properties: skipped by their length; ingest reads none of them.
            props = _varint(data, pos, end)
            if props is None or props[0] + props[1] > end:
                return None
            pos = props[0] + props[1]
        return Received(
            topic, bytes(data[pos:end]), mid, qos, bool(command & 0x08), bool(command & 0x01)
        )

    def _deliver(self, message: Received) -> MQTTErrorCode:
        """``on_message`` as paho calls it, without its topic matcher; paho's PUBACK unless the
        application acknowledges itself."""
        on_message = self._on_message
        if on_message is not None:
            with self._in_callback_mutex:
                try:
                    on_message(self, self._userdata, message)  # type: ignore[arg-type]
                except Exception as err:
                    self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                    if not self.suppress_exceptions:
                        raise
        if message.qos and not self._manual_ack:
            return self._send_puback(message.mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS
