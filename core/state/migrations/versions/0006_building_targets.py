"""Building energy targets: OPERAT id, décret tertiaire reference year, its energy and degree
days, 2019 energy and degree days (sobriety plan), absolute target in kWh/m²/yr.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "reference_year": "reference_year >= 2010",
    "reference_energy_positive": "reference_energy_kwh >= 0",
    "reference_degree_days_positive": "reference_degree_days > 0",
    "energy_2019_positive": "energy_2019_kwh >= 0",
    "degree_days_2019_positive": "degree_days_2019 > 0",
    "absolute_target_positive": "absolute_target_kwh_m2 > 0",
}
FLOATS = (
    "reference_energy_kwh",
    "reference_degree_days",
    "energy_2019_kwh",
    "degree_days_2019",
    "absolute_target_kwh_m2",
)


def upgrade() -> None:
    with op.batch_alter_table("building") as batch:
        batch.add_column(sa.Column("operat_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("reference_year", sa.Integer(), nullable=True))
        for name in FLOATS:
            batch.add_column(sa.Column(name, sa.Double(), nullable=True))
        for name, condition in CHECKS.items():
            batch.create_check_constraint(op.f(f"ck_building_{name}"), condition)


def downgrade() -> None:
    with op.batch_alter_table("building") as batch:
        for name in CHECKS:
            batch.drop_constraint(op.f(f"ck_building_{name}"), type_="check")
        for name in (*FLOATS, "reference_year", "operat_id"):
            batch.drop_column(name)
