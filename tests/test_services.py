"""The private services the suite starts itself, on a machine that runs none of them."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import sqlalchemy as sa

from tests.services import LOOPBACK, MosquittoServer, PostgresServer, port_accepts


def test_a_private_postgresql_starts_answers_and_stops() -> None:
    """What the suite falls back to when no PostgreSQL answers on 127.0.0.1:5432."""
    server = PostgresServer()
    server.start()
    try:
        engine = sa.create_engine(server.url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW port")).scalar() == str(server.port)
            conn.execute(sa.text("CREATE TEMP TABLE t (x int)"))
        engine.dispose()
    finally:
        server.stop()
    assert not server.running and not server.root.exists()


def test_a_server_whose_port_was_taken_starts_on_new_ones_not_on_its_neighbour(
    tmp_path: Path,
) -> None:
    """Two tests side by side can be handed the same free port; the loser must not take the
    winner's answers for its own (its freeze would then stop nothing)."""
    first = MosquittoServer(tmp_path / "first")
    first.start()
    try:
        second = MosquittoServer(tmp_path / "second")
        second.port = first.port  # what a race between two free_port() calls gives
        second.configure()
        second.start()
        try:
            assert second.port != first.port
            assert "address already in use" in second.log_path.read_text().lower()
            second.freeze()  # stops the second only: the first still answers
            assert port_accepts(LOOPBACK, first.port)
            assert first.running and first.ready()
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_server_answered_by_another_process_is_not_ready(tmp_path: Path) -> None:
    server = MosquittoServer(tmp_path / "m")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((LOOPBACK, 0))
        other.listen()
        server.port = other.getsockname()[1]
        server.configure()
        server._process = subprocess.Popen(["sleep", "30"])  # alive, listening on nothing
        try:
            assert server.ready()  # the port answers…
            assert not server._owns_ports()  # …but not from our process
        finally:
            server._process.kill()
            server._process.wait()
