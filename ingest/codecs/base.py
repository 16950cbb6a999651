"""The codec contract: pure functions from (fPort, payload bytes, receive time) to readings.

A codec module declares one ``CODEC = Codec(...)``. Its ``decode`` writes into an ``Emitter`` —
never raising for bad input — and follows one rule for every model (decision record 005):

- fPort: checked only where the vendor's format depends on it (Dragino, Netvox, Nwave, Bosch,
  Axioma, Quandify); a format that does not (Milesight, Elsys, Adeunis, Decentlab, Cayenne LPP)
  accepts any application fPort (``ANY_PORT``, 1-223), since vendors make the port configurable.
- Length: every frame variant the vendor documents decodes, shorter ones included; a frame
  shorter than its variant is ``truncated``, with whatever came before the cut kept.
- Documented channels: decoded into readings, or — when the vocabulary has no quantity for them
  or their unit is ambiguous — kept, value and all, in a warning (``Emitter.keep``). Nothing the
  vendor documents is dropped without a word.
- Unknown channels: decoding ends there (nothing after can be located), the readings before are
  kept and a ``bad_payload`` error names the byte and the channel (``Emitter.unknown``), so the
  pipeline stores the good readings and dead-letters the frame with that reason.

Its ``encode`` is the inverse for the simulator: from a mapping of field keys (``quantity`` or
``quantity:channel``) to the values at time ``at``, the fPort and bytes a device would send then.
Codecs whose frames carry history accept extra keys ``<key>@-<N>h`` (the value N hours before
``at``) and document them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from core.reading import Reading, ReadingError
from ingest.vetted import maker

# The application fPorts (LoRaWAN: 0 carries MAC commands, 224 is the test port, 225-255 are
# reserved): what a codec accepts when the vendor's format does not depend on the port.
ANY_PORT: tuple[int, ...] = tuple(range(1, 224))
KEPT = "kept, not stored"  # how a warning of ``Emitter.keep`` begins


class CodecErrorCode(StrEnum):
    """Why (part of) a frame could not be decoded; ingest turns these into dead-letter reasons."""

    WRONG_FPORT = "wrong_fport"  # the device does not send this fPort
    TRUNCATED = "truncated"  # fewer bytes than the frame type needs
    BAD_PAYLOAD = "bad_payload"  # unknown frame type, impossible field, checksum mismatch
    OUT_OF_RANGE = "out_of_range"  # decoded, but outside the quantity's physical range


@dataclass(frozen=True, slots=True)
class CodecError:
    code: CodecErrorCode
    message: str


@dataclass(slots=True)
class Decoded:
    """What a frame said: readings, remarks that lose nothing, and errors that lose something."""

    readings: list[Reading] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[CodecError] = field(default_factory=list)


class Emitter:
    """Collects a codec's output; builds validated readings for one device."""

    def __init__(
        self, device: str, received_at: datetime, params: Mapping[str, float] | None = None
    ) -> None:
        self.device = device
        self.received_at = received_at
        # Registry parameters a frame cannot carry (e.g. a history period set by downlink).
        self.params: Mapping[str, float] = params or {}
        self.result = Decoded()
        self._make = maker(device)
        self._kept: list[str] = []  # documented values without a quantity, see ``keep``

    def add(
        self, quantity: str, value: float, channel: str | None = None, at: datetime | None = None
    ) -> None:
        """One reading at ``at`` (default: the receive time); out-of-range becomes an error."""
        try:
            reading = self._make(at or self.received_at, self.device, quantity, value, channel)
        except ReadingError as exc:
            code = (
                CodecErrorCode.OUT_OF_RANGE if exc.field == "value" else CodecErrorCode.BAD_PAYLOAD
            )
            self.result.errors.append(CodecError(code, f"{quantity}: {exc}"))
            return
        self.result.readings.append(reading)

    def warn(self, message: str) -> None:
        self.result.warnings.append(message)

    def keep(self, channel: str, value: object, note: str = "") -> None:
        """A documented value with no quantity in the vocabulary, or an ambiguous unit: never
        dropped silently. A frame's kept values share one warning, ``kept, not stored: …``,
        naming each channel with its value (and ``note``: unit, meaning), in frame order."""
        self._kept.append(f"{channel} {value}" + (f" ({note})" if note else ""))
        text = f"{KEPT}: " + "; ".join(self._kept)
        if len(self._kept) == 1:
            self.result.warnings.append(text)
        else:
            index = next(i for i, w in enumerate(self.result.warnings) if w.startswith(KEPT))
            self.result.warnings[index] = text

    def unknown(self, what: str, position: int) -> None:
        """An undocumented channel or frame type at byte ``position``: decoding ends there."""
        kept = len(self.result.readings)
        self.fail(
            CodecErrorCode.BAD_PAYLOAD,
            f"unknown {what} at byte {position}: decoding stopped, {kept} reading(s) before kept",
        )

    def any_port(self, f_port: int) -> bool:
        """True for an application fPort (1-223); else a ``wrong_fport`` error."""
        if f_port in ANY_PORT:
            return True
        self.fail(CodecErrorCode.WRONG_FPORT, f"fPort {f_port} is not an application port (1-223)")
        return False

    def fail(self, code: CodecErrorCode, message: str) -> None:
        self.result.errors.append(CodecError(code, message))

    def need(self, payload: bytes, size: int, what: str) -> bool:
        """True when ``payload`` has at least ``size`` bytes, else record a truncation."""
        if len(payload) >= size:
            return True
        self.fail(CodecErrorCode.TRUNCATED, f"{what} needs {size} bytes, got {len(payload)}")
        return False

    def wrong_port(self, f_port: int, ports: tuple[int, ...]) -> None:
        expected = ", ".join(map(str, ports))
        self.fail(
            CodecErrorCode.WRONG_FPORT, f"fPort {f_port} is not sent by this device ({expected})"
        )


@dataclass(frozen=True, slots=True)
class Field:
    """One value ``encode`` accepts: its key, the range the frame can carry, and its step."""

    key: str  # "temperature_c" or "energy_kwh:hc"
    minimum: float
    maximum: float
    resolution: float  # decode(encode(v)) is within resolution / 2 of v


Decoder = Callable[[int, bytes, Emitter], None]
Encoder = Callable[[Mapping[str, float], datetime], tuple[int, bytes]]


@dataclass(frozen=True, slots=True)
class Codec:
    """A device model's payload format, named like the public LoRaWAN device repository."""

    id: str  # "vendor/model", e.g. "dragino/lht65"
    ports: tuple[int, ...]  # the fPorts decode accepts (``ANY_PORT`` when the format ignores it)
    decode: Decoder
    encode: Encoder
    fields: tuple[Field, ...]  # what encode accepts; the round-trip property draws from these
    summary: str = ""


def stamp(at: datetime) -> str:
    """A reading time as kept-value warnings name it: ``2026-01-15T08:00:00Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_key(key: str) -> tuple[str, str | None]:
    """``"energy_kwh:hc"`` → ``("energy_kwh", "hc")``; ``"co2_ppm"`` → ``("co2_ppm", None)``."""
    quantity, _, channel = key.partition(":")
    return quantity, channel or None
