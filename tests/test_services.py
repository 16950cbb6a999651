"""The private services the suite starts itself, on a machine that runs none of them."""

from __future__ import annotations

import sqlalchemy as sa

from tests.services import PostgresServer


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
