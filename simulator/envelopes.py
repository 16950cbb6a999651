"""Network-server envelopes as ChirpStack v4 and The Things Stack v3 publish them.

The simulator and the tests speak through these, so ingest is exercised by the same topics and
documents a real network server produces: ChirpStack JSON (protobuf JSON mapping: camelCase,
zero values omitted) or binary protobuf (``chirpstack_api.integration``), TTS v3 JSON (snake_case,
zero/false fields omitted, ``frequency`` as a string).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chirpstack_api import gw, integration
from google.protobuf.timestamp_pb2 import Timestamp

APPLICATION_ID = "b5b0f8a2-1f0e-4f6c-9d41-5a3c2f0e7c11"
TENANT_ID = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"


@dataclass(frozen=True, slots=True)
class Reception:
    gateway_id: str
    rssi: int
    snr: float


@dataclass(frozen=True, slots=True)
class Frame:
    """One uplink as the device sent it and the network heard it."""

    dev_eui: str
    f_cnt: int
    f_port: int
    payload: bytes
    time: datetime
    spreading_factor: int = 7
    receptions: tuple[Reception, ...] = (Reception("0016c001f153a14c", -85, 7.5),)
    dedup_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    profile: str = "vigie"
    frequency: int = 868_100_000


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def chirpstack_topic(dev_eui: str, event: str = "up") -> str:
    return f"application/{APPLICATION_ID}/device/{dev_eui}/event/{event}"


def chirpstack_up_json(f: Frame) -> tuple[str, bytes]:
    doc: dict[str, object] = {
        "deduplicationId": f.dedup_id,
        "time": _rfc3339(f.time),
        "deviceInfo": {
            "tenantId": TENANT_ID,
            "tenantName": "Vigie",
            "applicationId": APPLICATION_ID,
            "applicationName": "vigie",
            "deviceProfileName": f.profile,
            "deviceName": f.dev_eui,
            "devEui": f.dev_eui,
            "deviceClassEnabled": "CLASS_A",
        },
        "devAddr": "00189440",
        "adr": True,
        "dr": 12 - f.spreading_factor,
        "fCnt": f.f_cnt,
        "fPort": f.f_port,
        "confirmed": False,
        "data": base64.b64encode(f.payload).decode(),
        "rxInfo": [
            {
                "gatewayId": r.gateway_id,
                "uplinkId": 1000 + i,
                "gwTime": _rfc3339(f.time),
                "nsTime": _rfc3339(f.time),
                "rssi": r.rssi,
                "snr": r.snr,
                "channel": 1,
                "location": {},
                "context": "EGusPQ==",
                "crcStatus": "CRC_OK",
            }
            for i, r in enumerate(f.receptions)
        ],
        "txInfo": {
            "frequency": f.frequency,
            "modulation": {
                "lora": {
                    "bandwidth": 125000,
                    "spreadingFactor": f.spreading_factor,
                    "codeRate": "CR_4_5",
                }
            },
        },
    }
    if not f.f_cnt:
        del doc["fCnt"]  # the protobuf JSON mapping omits zero values
    return chirpstack_topic(f.dev_eui), json.dumps(doc).encode()


def chirpstack_up_protobuf(f: Frame) -> tuple[str, bytes]:
    ts = Timestamp()
    ts.FromDatetime(f.time.astimezone(UTC))
    event = integration.UplinkEvent(
        deduplication_id=f.dedup_id,
        time=ts,
        device_info=integration.DeviceInfo(
            tenant_id=TENANT_ID,
            application_id=APPLICATION_ID,
            device_profile_name=f.profile,
            device_name=f.dev_eui,
            dev_eui=f.dev_eui,
        ),
        dev_addr="00189440",
        dr=12 - f.spreading_factor,
        f_cnt=f.f_cnt,
        f_port=f.f_port,
        data=f.payload,
        rx_info=[
            gw.UplinkRxInfo(gateway_id=r.gateway_id, rssi=r.rssi, snr=r.snr) for r in f.receptions
        ],
        tx_info=gw.UplinkTxInfo(
            frequency=f.frequency,
            modulation=gw.Modulation(
                lora=gw.LoraModulationInfo(
                    bandwidth=125000, spreading_factor=f.spreading_factor, code_rate=gw.CR_4_5
                )
            ),
        ),
    )
    return chirpstack_topic(f.dev_eui), event.SerializeToString()


def tts_up(f: Frame, application: str = "vigie", tenant: str = "caudresis") -> tuple[str, bytes]:
    up: dict[str, object] = {
        "session_key_id": "AXBSH1Pk6Z0G166JnZzsrA==",
        "f_port": f.f_port,
        "f_cnt": f.f_cnt,
        "frm_payload": base64.b64encode(f.payload).decode(),
        "rx_metadata": [
            {
                "gateway_ids": {
                    "gateway_id": f"gw-{r.gateway_id[-4:]}",
                    "eui": r.gateway_id.upper(),
                },
                "time": _rfc3339(f.time),
                "rssi": r.rssi,
                "channel_rssi": r.rssi,
                "snr": r.snr,
            }
            for r in f.receptions
        ],
        "settings": {
            "data_rate": {
                "lora": {
                    "bandwidth": 125000,
                    "spreading_factor": f.spreading_factor,
                    "coding_rate": "4/5",
                }
            },
            "frequency": str(f.frequency),
        },
        "received_at": _rfc3339(f.time),
        "consumed_airtime": "0.061696s",
    }
    for key in ("f_port", "f_cnt"):
        if not up[key]:
            del up[key]  # TTS omits zero values
    doc = {
        "end_device_ids": {
            "device_id": f"eui-{f.dev_eui}",
            "application_ids": {"application_id": application},
            "dev_eui": f.dev_eui.upper(),
            "dev_addr": "260B1234",
        },
        "correlation_ids": [f"as:up:{f.dedup_id}"],
        "received_at": _rfc3339(f.time),
        "uplink_message": up,
    }
    return f"v3/{application}@{tenant}/devices/eui-{f.dev_eui}/up", json.dumps(doc).encode()


def chirpstack_event(
    kind: str, dev_eui: str, time: datetime, dedup_id: str | None = None, **fields: object
) -> tuple[str, bytes]:
    """A ChirpStack JSON event of any kind (``status``, ``join``, ``ack``, ``location``, …).

    ChirpStack gives the events an uplink causes (its DevStatusAns, its ack of a confirmed
    downlink, a location resolved from it) that uplink's ``deduplicationId``; ``txack`` carries
    a ``downlinkId`` instead.
    """
    doc: dict[str, object] = {
        "time": _rfc3339(time),
        "deviceInfo": {"devEui": dev_eui, "applicationId": APPLICATION_ID},
        **fields,
    }
    if dedup_id is not None:
        doc = {"deduplicationId": dedup_id, **doc}
    return chirpstack_topic(dev_eui, kind), json.dumps(doc).encode()


def chirpstack_status(
    dev_eui: str,
    time: datetime,
    battery_pct: float,
    margin_db: int,
    dedup_id: str | None = None,
) -> tuple[str, bytes]:
    """A device-status event; ``dedup_id`` is the uplink that carried the DevStatusAns."""
    return chirpstack_event(
        "status",
        dev_eui,
        time,
        dedup_id or str(uuid.uuid4()),
        margin=margin_db,
        batteryLevel=battery_pct,
    )


def chirpstack_status_protobuf(
    dev_eui: str, time: datetime, battery_pct: float, margin_db: int, dedup_id: str
) -> tuple[str, bytes]:
    ts = Timestamp()
    ts.FromDatetime(time.astimezone(UTC))
    event = integration.StatusEvent(
        deduplication_id=dedup_id,
        time=ts,
        device_info=integration.DeviceInfo(application_id=APPLICATION_ID, dev_eui=dev_eui),
        margin=margin_db,
        battery_level=battery_pct,
    )
    return chirpstack_topic(dev_eui, "status"), event.SerializeToString()


def chirpstack_join(dev_eui: str, time: datetime) -> tuple[str, bytes]:
    return chirpstack_event("join", dev_eui, time, str(uuid.uuid4()), devAddr="00189440")


def chirpstack_log(
    dev_eui: str, time: datetime, code: str, description: str, uplink: str
) -> tuple[str, bytes]:
    doc = {
        "time": _rfc3339(time),
        "deviceInfo": {"devEui": dev_eui, "applicationId": APPLICATION_ID},
        "level": "ERROR",
        "code": code,
        "description": description,
        "context": {"deduplication_id": uplink},
    }
    return chirpstack_topic(dev_eui, "log"), json.dumps(doc).encode()
