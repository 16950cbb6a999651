"""The state schema: migrations equal the models, constraints hold, device tags are right."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from core.state.base import Base
from core.state.models import (
    Building,
    Device,
    Hub,
    ParkingArea,
    ParkingSpace,
    SectorMeter,
    Site,
    Tenant,
    WaterSector,
)
from core.state.store import StateStore, alembic_config
from core.state.vocabulary import MeterDirection


def _schema_diff(store: StateStore) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _tables(store: StateStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_migrations_build_exactly_the_models(empty_state_store: StateStore) -> None:
    empty_state_store.migrate()

    assert _schema_diff(empty_state_store) == []
    assert _tables(empty_state_store) == set(Base.metadata.tables)


def test_migrate_twice_is_a_no_op(empty_state_store: StateStore) -> None:
    empty_state_store.migrate()
    empty_state_store.migrate()

    assert _schema_diff(empty_state_store) == []


def test_downgrade_to_base_removes_every_table(empty_state_store: StateStore) -> None:
    empty_state_store.migrate()
    with empty_state_store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")

    assert _tables(empty_state_store) == set()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_durable_commits(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path}/nested/dir/state.sqlite")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # FULL (2): a commit is on disk before it returns. Ingest acknowledges frames to the
        # broker once their dead letters are committed; NORMAL could lose those to a power cut.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    store.dispose()


@pytest.fixture
def territory(state_store: StateStore) -> StateStore:
    """A tiny registry built through the ORM: one building meter, one sector inflow meter, one
    parking sensor bound to a space (but not to the area), one hub showing two areas."""
    with state_store.session() as session:
        agglo = Tenant(code="agglo", name="Agglo", kind="agglomeration")
        town = Tenant(code="town", name="Town", kind="commune", insee="59139", parent=agglo)
        site = Site(code="school", tenant=town, name="School", latitude=50.1, longitude=3.4)
        pump = Site(code="pump", tenant=agglo, name="Pumping station")
        building = Building(
            code="school-main",
            site=site,
            name="Main building",
            floor_area_m2=1200.0,
            energy_carriers=["electricity", "gas"],
            holiday_zone="B",
            schedule={"mon": [["08:00", "17:00"]]},
        )
        north = ParkingArea(
            id_lieu="59139-C-001",
            tenant=agglo,
            nom_lieu="North",
            insee="59139",
            type="Parking",
            xlong=3.41,
            ylat=50.1,
            nbre_pl=10,
        )
        south = ParkingArea(
            id_lieu="59139-C-002",
            tenant=agglo,
            nom_lieu="South",
            insee="59139",
            type="Parking",
            xlong=3.42,
            ylat=50.2,
            nbre_pl=5,
        )
        meter = Device(
            dev_eui="0000000000000001",
            tenant=town,
            codec_id="axioma/qalcosonic-w1",
            role="water_meter",
            building=building,
        )
        inflow = Device(
            dev_eui="0000000000000002",
            tenant=agglo,
            codec_id="milesight-iot/em300-di",
            role="sector_inflow",
            site=pump,
            parameters={"pulse_weight": 0.1},
        )
        sensor = Device(
            dev_eui="0000000000000003",
            tenant=agglo,
            codec_id="nwave/nps405",
            role="parking_space",
        )
        sector = WaterSector(code="centre", tenant=agglo, name="Centre", network_length_km=12.5)
        sector.meter_links.append(SectorMeter(device=inflow, direction="inflow"))
        hub = Hub(code="hub", tenant=agglo, name="Hub")
        hub.areas.extend([south, north])
        space = ParkingSpace(code="north-01", area=north, device=sensor)
        session.add_all([building, meter, inflow, sector, hub, space])
    return state_store


def test_device_tags_follow_building_site_and_space_area(territory: StateStore) -> None:
    assert territory.device_tags() == {
        "0000000000000001": {
            "tenant": "town",
            "site": "school",
            "building": "school-main",
            "model": "axioma/qalcosonic-w1",
        },
        "0000000000000002": {"tenant": "agglo", "site": "pump", "model": "milesight-iot/em300-di"},
        "0000000000000003": {"tenant": "agglo", "area": "59139-C-001", "model": "nwave/nps405"},
    }


def test_device_tags_for_some_devices_ignore_case_and_unknowns(territory: StateStore) -> None:
    tags = territory.device_tags(["0000000000000003", "FFFFFFFFFFFFFFFF"])

    assert tags == {
        "0000000000000003": {"tenant": "agglo", "area": "59139-C-001", "model": "nwave/nps405"}
    }
    assert territory.device_tags([]) == {}


def test_relationships_keep_hub_order_and_sector_directions(territory: StateStore) -> None:
    with territory.session() as session:
        hub = session.scalars(sa.select(Hub)).one()
        sector = session.scalars(sa.select(WaterSector)).one()

        assert [area.id_lieu for area in hub.areas] == ["59139-C-002", "59139-C-001"]
        assert [d.dev_eui for d in sector.meters(MeterDirection.INFLOW)] == ["0000000000000002"]
        assert sector.meters(MeterDirection.OUTFLOW) == []


@pytest.fixture
def session(territory: StateStore) -> Iterator[Session]:
    """A session whose changes are rolled back: constraint tests expect the flush to fail."""
    with territory.engine.connect() as connection:
        transaction = connection.begin()
        with Session(connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


def _tenant(session: Session, code: str) -> Tenant:
    return session.scalars(sa.select(Tenant).where(Tenant.code == code)).one()


def _site(session: Session) -> Site:
    return session.scalars(sa.select(Site).where(Site.code == "school")).one()


@pytest.mark.parametrize(
    "make_row",
    [
        pytest.param(lambda s: Tenant(code="town", name="Twice", kind="commune"), id="unique-code"),
        pytest.param(lambda s: Tenant(code="x", name="X", kind="region"), id="tenant-kind"),
        pytest.param(
            lambda s: Building(code="b", site=_site(s), name="B", floor_area_m2=0),
            id="floor-area-positive",
        ),
        pytest.param(
            lambda s: Device(
                dev_eui="ABCDEF0123456789", tenant=_tenant(s, "agglo"), codec_id="a/b", role="level"
            ),
            id="dev-eui-lower-case",
        ),
        pytest.param(
            lambda s: Site(code="orphan", tenant_id=999_999, name="Orphan"), id="foreign-key"
        ),
        pytest.param(
            lambda s: ParkingArea(
                id_lieu="59139-C-009",
                tenant=_tenant(s, "agglo"),
                nom_lieu="Bad",
                insee="59139",
                type="Parking",
                xlong=3.4,
                ylat=91.0,
                nbre_pl=3,
            ),
            id="latitude-range",
        ),
    ],
)
def test_database_constraints_reject_bad_rows(session: Session, make_row: object) -> None:
    session.add(make_row(session))  # type: ignore[operator]
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_sensor_watches_one_space(session: Session) -> None:
    sensor = session.scalars(sa.select(Device).where(Device.role == "parking_space")).one()
    area = session.scalars(sa.select(ParkingArea)).first()
    session.add(ParkingSpace(code="north-02", area=area, device=sensor))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_a_tenant_with_sites_is_refused(session: Session) -> None:
    with pytest.raises(IntegrityError):
        session.execute(sa.delete(Tenant).where(Tenant.code == "town"))


def test_deleting_a_site_cascades_to_buildings_and_unlinks_devices(session: Session) -> None:
    session.execute(sa.delete(Site).where(Site.code == "school"))

    assert session.scalars(sa.select(Building)).all() == []
    meter = session.scalars(sa.select(Device).where(Device.dev_eui == "0000000000000001")).one()
    session.refresh(meter)
    assert (meter.building_id, meter.site_id) == (None, None)


def test_deleting_an_area_removes_its_spaces_and_hub_entry(session: Session) -> None:
    session.execute(sa.delete(ParkingArea).where(ParkingArea.id_lieu == "59139-C-001"))

    assert session.scalars(sa.select(ParkingSpace)).all() == []
    hub = session.scalars(sa.select(Hub)).one()
    session.refresh(hub)
    assert [area.id_lieu for area in hub.areas] == ["59139-C-002"]


def test_deleting_a_sensor_frees_its_space_and_sector(session: Session) -> None:
    session.execute(sa.delete(Device).where(Device.role.in_(["parking_space", "sector_inflow"])))

    space = session.scalars(sa.select(ParkingSpace)).one()
    session.refresh(space)
    assert space.device_id is None
    assert session.scalars(sa.select(SectorMeter)).all() == []


def test_timestamps_come_back_as_utc_instants(territory: StateStore) -> None:
    paris_summer = timezone(timedelta(hours=2))
    joined = datetime(2025, 6, 1, 14, 30, tzinfo=paris_summer)
    with territory.session() as session:
        meter = session.scalars(sa.select(Device).where(Device.role == "water_meter")).one()
        meter.last_join_at = joined

    with territory.session() as session:
        meter = session.scalars(sa.select(Device).where(Device.role == "water_meter")).one()
        assert meter.last_join_at == joined
        assert meter.last_join_at is not None and meter.last_join_at.tzinfo is UTC
        assert meter.last_join_at.hour == 12
        assert meter.created_at.tzinfo is UTC
        assert meter.updated_at >= meter.created_at


def test_naive_timestamps_are_refused(territory: StateStore) -> None:
    with pytest.raises(StatementError, match="timezone-aware"), territory.session() as session:
        meter = session.scalars(sa.select(Device).where(Device.role == "water_meter")).one()
        meter.last_join_at = datetime(2025, 6, 1, 12, 0)
        session.flush()
