"""``vigie hub``: the display token that opens a hub's screen page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from api.display_tokens import UnknownHub, issue_display_token
from core.config import load_settings
from vigie import operator
from vigie.wiring import build_state

hub_app = typer.Typer(help="Hub screens: issue the display token of a hub's page.")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"),
]


def screen_url(base_url: str, code: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/hub/{quote(code)}?token={quote(token)}"


@hub_app.command("token")
def hub_token(
    code: Annotated[str, typer.Argument(help="The hub's code in the registry")],
    base_url: Annotated[
        str | None, typer.Option(help="The API's public address, for the printed URL")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Issue a new display token (the previous one stops opening the page) and print the URL
    to open on the hub's screens. Only the token's hash is kept: note the URL."""
    settings = load_settings(config)
    state = build_state(settings)
    try:
        token = issue_display_token(state, code)
        operator.audit(state, f"hub token {code}")
    except UnknownHub:
        typer.echo(f"no hub {code!r} in the registry", err=True)
        raise typer.Exit(2) from None
    finally:
        state.dispose()
    base = base_url or f"http://{settings.api.host}:{settings.api.port}"
    typer.echo(screen_url(base, code, token))
