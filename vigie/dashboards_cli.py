"""``vigie dashboards push``: upload the Grafana dashboards of dashboards/json/ to a Grafana."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards import JSON_DIR

dashboards_app = typer.Typer(help="Grafana dashboards: upload them to a Grafana server.")


def load_dashboards(directory: Path = JSON_DIR) -> list[dict[str, Any]]:
    """The built dashboards, in file-name order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]


def ensure_folder(api: GrafanaApi, title: str, uid: str) -> bool:
    """Create the folder unless it exists; True when it was created."""
    try:
        api.folder.get_folder(uid)  # type: ignore[no-untyped-call]  # grafana-client is untyped
        return False
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
    api.folder.create_folder(title, uid=uid)  # type: ignore[no-untyped-call]
    return True


def push_dashboards(
    api: GrafanaApi, dashboards: list[dict[str, Any]], folder_uid: str
) -> list[str]:
    """Save each dashboard into the folder, replacing the one of the same uid; their URLs."""
    urls = []
    for d in dashboards:
        # No numeric id: Grafana then matches on the uid, in this instance or any other.
        body = {k: v for k, v in d.items() if k != "id"}
        answer = api.dashboard.update_dashboard(  # type: ignore[no-untyped-call]
            {
                "dashboard": body,
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "vigie dashboards push",
            }
        )
        urls.append(str(answer.get("url", d["uid"])))
    return urls


@dashboards_app.command("push")
def push(
    url: Annotated[
        str, typer.Option(help="Grafana's URL, e.g. https://grafana.example.org (a sub-path too)")
    ],
    token: Annotated[
        str,
        typer.Option(
            envvar="GRAFANA_TOKEN",
            help="A service account token with the Editor role (or $GRAFANA_TOKEN)",
        ),
    ],
    folder: Annotated[str, typer.Option(help="Folder to put the dashboards in")] = "Vigie",
    folder_uid: Annotated[str, typer.Option(help="The folder's uid")] = "vigie",
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per request")] = 10.0,
) -> None:
    """Upload every Vigie dashboard, creating the folder and overwriting dashboards by uid.

    The datasources are not pushed: provision them from dashboards/provisioning/datasources/
    (their uids are the ones the dashboards refer to)."""
    dashboards = load_dashboards()
    # grafana-client joins its path prefix and "api" without a slash: give it one.
    api = GrafanaApi.from_url(url.rstrip("/") + "/", credential=token, timeout=timeout)
    try:
        if ensure_folder(api, folder, folder_uid):
            typer.echo(f"created folder {folder!r} ({folder_uid})")
        for d, where in zip(dashboards, push_dashboards(api, dashboards, folder_uid), strict=True):
            typer.echo(f"{d['uid']}: {where}")
    except GrafanaException as exc:
        typer.echo(f"Grafana refused: {exc.status_code} {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{len(dashboards)} dashboards pushed to {url}")
