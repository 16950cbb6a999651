"""``/api/v1/hubs/{code}/messages``: what an operator publishes on a hub's screens ("Canicule :
pensez à vous hydrater"), listed, published and withdrawn."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import Caller, CallerDep, ClockDep, StateDep
from api.errors import NOT_FOUND, NOT_JSON, UNREADABLE, invalid
from api.params import ID_MAX, Instant
from api.routes import API_V1
from core.state.hub_messages import MESSAGE_LENGTH, HubMessage, live_messages
from core.state.models import Hub

router = APIRouter(prefix=f"{API_V1}/hubs", tags=["hubs"])

HubCode = Annotated[str, Path(max_length=64, description="The hub's code in the registry")]
MessageId = Annotated[int, Path(ge=1, le=ID_MAX, description="Message id")]
Severity = Literal["info", "warning", "critical"]


class MessageIn(BaseModel):
    """A message to show; ``all_hubs`` shows it on every hub of the hub's tenant."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_LENGTH)
    ] = Field(
        description="French text as travellers read it",
        examples=["Canicule : pensez à vous hydrater"],
    )
    severity: Severity = "info"
    starts_at: Instant | None = Field(None, description="Default: now")
    ends_at: Instant | None = Field(None, description="Default: until withdrawn")
    all_hubs: bool = False

    @model_validator(mode="after")
    def _period(self) -> MessageIn:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if "\n" in self.text or "\r" in self.text:
            raise ValueError("text must be one line")
        return self


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    severity: Severity
    starts_at: datetime
    ends_at: datetime | None
    all_hubs: bool
    created_at: datetime
    created_by: str
    withdrawn_at: datetime | None


def hub_or_404(session: Session, code: str, caller: Caller) -> Hub:
    """The hub, if it exists and the caller may see its tenant."""
    hub = session.scalar(select(Hub).where(Hub.code == code))
    if hub is None or (caller.tenants is not None and hub.tenant.code not in caller.tenants):
        raise HTTPException(404, f"no hub {code!r}")
    return hub


def _out(message: HubMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        text=message.text,
        severity=message.severity,
        starts_at=message.starts_at,
        ends_at=message.ends_at,
        all_hubs=message.hub_id is None,
        created_at=message.created_at,
        created_by=message.created_by,
        withdrawn_at=message.withdrawn_at,
    )


@router.get("/{code}/messages", responses={**NOT_FOUND})
def list_messages(
    code: HubCode,
    state: StateDep,
    clock: ClockDep,
    caller: CallerDep,
    live: Annotated[bool, Query(description="Only those the screens show now")] = False,
) -> list[MessageOut]:
    """The hub's messages (its own and its tenant's), newest first, or only the live ones."""
    with state.session() as session:
        hub = hub_or_404(session, code, caller)
        if live:
            return [_out(m) for m in live_messages(session, hub.tenant_id, hub.id, clock.now())]
        query = (
            select(HubMessage)
            .where(HubMessage.tenant_id == hub.tenant_id)
            .where((HubMessage.hub_id == hub.id) | HubMessage.hub_id.is_(None))
            .order_by(HubMessage.created_at.desc(), HubMessage.id.desc())
            .limit(500)
        )
        return [_out(m) for m in session.scalars(query)]


@router.post("/{code}/messages", status_code=201, responses={**NOT_FOUND, **NOT_JSON, **UNREADABLE})
def publish_message(
    code: HubCode, body: MessageIn, state: StateDep, clock: ClockDep, caller: CallerDep
) -> MessageOut:
    """Publish a message on the hub's screens (or on all of its tenant's hubs)."""
    now = clock.now()
    starts_at = body.starts_at or now
    if body.ends_at is not None and body.ends_at <= starts_at:
        raise invalid(("body", "ends_at"), "ends_at must be after starts_at")
    with state.session() as session:
        hub = hub_or_404(session, code, caller)
        message = HubMessage(
            tenant_id=hub.tenant_id,
            hub_id=None if body.all_hubs else hub.id,
            text=body.text,
            severity=body.severity,
            starts_at=starts_at,
            ends_at=body.ends_at,
            created_at=now,
            created_by=caller.name,
        )
        session.add(message)
        session.commit()
        return _out(message)


@router.delete(
    "/{code}/messages/{message_id}", status_code=204, responses={**NOT_FOUND, **NOT_JSON}
)
def withdraw_message(
    code: HubCode, message_id: MessageId, state: StateDep, clock: ClockDep, caller: CallerDep
) -> Response:
    """Withdraw a message: the screens stop showing it; the record stays."""
    with state.session() as session:
        hub = hub_or_404(session, code, caller)
        message = session.get(HubMessage, message_id)
        if (
            message is None
            or message.tenant_id != hub.tenant_id
            or message.hub_id
            not in (
                None,
                hub.id,
            )
        ):
            raise HTTPException(404, f"no message {message_id} on hub {code!r}")
        if message.withdrawn_at is None:
            message.withdrawn_at = clock.now()
            session.commit()
    return Response(status_code=204)
