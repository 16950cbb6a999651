"""The codec library: every supported device model, by its public device-repository id.

Every module of this package that defines ``CODEC`` is a device model: adding one adds a module
and an examples file, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from datetime import datetime

import ingest.codecs
from ingest.codecs.base import Codec, CodecErrorCode, Decoded, Emitter

_NOT_MODELS = frozenset({"base", "registry", "binary"})


def _discover() -> dict[str, Codec]:
    found: dict[str, Codec] = {}
    for info in sorted(pkgutil.iter_modules(ingest.codecs.__path__), key=lambda m: m.name):
        if info.name in _NOT_MODELS or info.ispkg:
            continue
        module = importlib.import_module(f"ingest.codecs.{info.name}")
        codec = getattr(module, "CODEC", None)
        if not isinstance(codec, Codec):
            continue
        if codec.id in found:
            raise RuntimeError(f"codec id {codec.id!r} is declared twice ({info.name})")
        found[codec.id] = codec
    return found


CODECS: dict[str, Codec] = _discover()


class UnknownCodec(KeyError):
    """No codec has this id."""


def codec(codec_id: str) -> Codec:
    try:
        return CODECS[codec_id]
    except KeyError:
        raise UnknownCodec(codec_id) from None


def decode(
    codec_id: str,
    f_port: int,
    payload: bytes,
    received_at: datetime,
    device: str,
    params: Mapping[str, float] | None = None,
) -> Decoded:
    """Decode one frame; pure. A codec that trips over a payload gives an error, never raises."""
    out = Emitter(device, received_at, params)
    try:
        codec(codec_id).decode(f_port, payload, out)
    except (IndexError, ValueError, KeyError, OverflowError) as exc:
        # A codec bug or an unforeseen frame must not stop the consumer: keep what was decoded.
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"{type(exc).__name__}: {exc}")
    return out.result
