"""Registry tables: tenants, sites, buildings, devices, water sectors, parking areas, hubs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _keys(table: str, natural_key: str) -> list[sa.Constraint]:
    return [
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(natural_key, name=op.f(f"uq_{table}_{natural_key}")),
    ]


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    op.create_table(
        "tenant",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("insee", sa.String(5), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("kind IN ('commune', 'agglomeration')", name=op.f("ck_tenant_kind")),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_tenant_not_own_parent")
        ),
        _fk("tenant", "parent_id", "tenant", "SET NULL"),
        *_keys("tenant", "code"),
    )
    _index("tenant", "parent_id")

    op.create_table(
        "site",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("insee", sa.String(5), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_site_latitude")),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name=op.f("ck_site_longitude")),
        _fk("site", "tenant_id", "tenant", "RESTRICT"),
        *_keys("site", "code"),
    )
    _index("site", "tenant_id")

    op.create_table(
        "building",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("floor_area_m2", sa.Double(), nullable=True),
        sa.Column("activity_category", sa.String(64), nullable=True),
        sa.Column("energy_carriers", _json(), nullable=False),
        sa.Column("holiday_zone", sa.String(1), nullable=True),
        sa.Column("schedule", _json(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("floor_area_m2 > 0", name=op.f("ck_building_floor_area_positive")),
        sa.CheckConstraint(
            "holiday_zone IN ('A', 'B', 'C')", name=op.f("ck_building_holiday_zone")
        ),
        _fk("building", "site_id", "site", "CASCADE"),
        *_keys("building", "code"),
    )
    _index("building", "site_id")

    op.create_table(
        "water_sector",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("network_length_km", sa.Double(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "network_length_km > 0", name=op.f("ck_water_sector_network_length_positive")
        ),
        _fk("water_sector", "tenant_id", "tenant", "RESTRICT"),
        *_keys("water_sector", "code"),
    )
    _index("water_sector", "tenant_id")

    op.create_table(
        "parking_area",
        _id(),
        sa.Column("id_lieu", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("nom_lieu", sa.String(200), nullable=False),
        sa.Column("insee", sa.String(5), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("xlong", sa.Double(), nullable=False),
        sa.Column("ylat", sa.Double(), nullable=False),
        sa.Column("nbre_pl", sa.Integer(), nullable=False),
        sa.Column("nbre_pmr", sa.Integer(), nullable=False),
        sa.Column("ouvert", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("xlong BETWEEN -180 AND 180", name=op.f("ck_parking_area_xlong")),
        sa.CheckConstraint("ylat BETWEEN -90 AND 90", name=op.f("ck_parking_area_ylat")),
        sa.CheckConstraint("nbre_pl >= 0", name=op.f("ck_parking_area_nbre_pl")),
        sa.CheckConstraint("nbre_pmr >= 0", name=op.f("ck_parking_area_nbre_pmr")),
        _fk("parking_area", "tenant_id", "tenant", "RESTRICT"),
        *_keys("parking_area", "id_lieu"),
    )
    _index("parking_area", "tenant_id")

    op.create_table(
        "device",
        _id(),
        sa.Column("dev_eui", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("codec_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("sector_id", sa.Integer(), nullable=True),
        sa.Column("parameters", _json(), nullable=False),
        sa.Column("last_join_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "length(dev_eui) = 16 AND dev_eui = lower(dev_eui)", name=op.f("ck_device_dev_eui")
        ),
        _fk("device", "tenant_id", "tenant", "RESTRICT"),
        _fk("device", "site_id", "site", "SET NULL"),
        _fk("device", "building_id", "building", "SET NULL"),
        _fk("device", "area_id", "parking_area", "SET NULL"),
        _fk("device", "sector_id", "water_sector", "SET NULL"),
        *_keys("device", "dev_eui"),
    )
    _index("device", "tenant_id", "role", "site_id", "building_id", "area_id", "sector_id")

    op.create_table(
        "water_sector_meter",
        sa.Column("sector_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.CheckConstraint(
            "direction IN ('inflow', 'outflow')", name=op.f("ck_water_sector_meter_direction")
        ),
        _fk("water_sector_meter", "sector_id", "water_sector", "CASCADE"),
        _fk("water_sector_meter", "device_id", "device", "CASCADE"),
        sa.PrimaryKeyConstraint("sector_id", "device_id", name=op.f("pk_water_sector_meter")),
    )
    _index("water_sector_meter", "device_id")

    op.create_table(
        "parking_space",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("pmr", sa.Boolean(), nullable=False),
        *_timestamps(),
        _fk("parking_space", "area_id", "parking_area", "CASCADE"),
        _fk("parking_space", "device_id", "device", "SET NULL"),
        *_keys("parking_space", "code"),
        sa.UniqueConstraint("device_id", name=op.f("uq_parking_space_device_id")),
    )
    _index("parking_space", "area_id")

    op.create_table(
        "hub",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        *_timestamps(),
        _fk("hub", "tenant_id", "tenant", "RESTRICT"),
        *_keys("hub", "code"),
    )
    _index("hub", "tenant_id")

    op.create_table(
        "hub_area",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("hub_area", "hub_id", "hub", "CASCADE"),
        _fk("hub_area", "area_id", "parking_area", "CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "area_id", name=op.f("pk_hub_area")),
    )
    _index("hub_area", "area_id")


def downgrade() -> None:
    for table in (
        "hub_area",
        "hub",
        "parking_space",
        "water_sector_meter",
        "device",
        "parking_area",
        "water_sector",
        "building",
        "site",
        "tenant",
    ):
        op.drop_table(table)
