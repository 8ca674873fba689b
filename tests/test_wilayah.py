"""The official region list: shipped whole, rosters checked against it, names loaded by a command."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage import demo, wilayah
from storage.db import make_engine
from storage.models import Region
from tests.test_roster import HH, MT, VAULT, Sessions, csv_bytes, household, load, reasons
from tests.test_roster import db as db  # noqa: F401 - the roster tests' database fixture


def test_the_shipped_list_has_every_level_of_the_country() -> None:
    """38 provinsi, 514 kabupaten/kota, 7,285 kecamatan, 83,762 desa/kelurahan; Rawa Makmur among them."""
    places = list(wilayah.read())
    assert Counter(p.level for p in places) == {1: 38, 2: 514, 3: 7285, 4: 83762}
    assert wilayah.Place("6472011001", "Rawa Makmur", 4) in places
    assert len({p.code for p in places}) == len(places)  # no code twice


async def test_a_desa_code_that_does_not_exist_is_refused_with_its_value(db: Sessions) -> None:  # noqa: F811
    """Households and mentors whose code is well-formed but not a region are rejected, by line."""
    table = [household(1), household(2, kode_wilayah="64.72.01.9999"), household(3)]
    report = await load(db, "households", csv_bytes(HH, table))
    assert (report.created, report.rejected) == (2, 1)
    assert reasons(report)[3] == [
        "baris 3: kode_wilayah 64.72.01.9999 tidak ada di daftar wilayah Kemendagri"
    ]
    mentors = [
        {"nama": "Rina", "no_hp": "081200000001", "kode_wilayah": "64.72"},
        {"nama": "Tanpa", "no_hp": "081200000002", "kode_wilayah": "64.73"},  # 64.73 is no more
    ]
    report = await load(db, "mentors", csv_bytes(MT, mentors))
    assert (report.created, report.rejected) == (1, 1)
    assert reasons(report)[3] == [
        "baris 3: kode_wilayah 64.73 tidak ada di daftar wilayah Kemendagri"
    ]


def test_regions_load_puts_names_in_the_database_and_a_second_load_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sinergi regions load FILE` upserts; a bad file is refused with the line."""
    mp = monkeypatch
    url = f"sqlite+aiosqlite:///{tmp_path}/sinergi.db"
    mp.setenv("SINERGI_DATABASE_URL", url)
    mp.setenv("SINERGI_DATA_DIR", str(tmp_path))
    listing = tmp_path / "wilayah.csv"
    listing.write_text(
        "kode,nama\n64,Kalimantan Timur\n64.72,Kota Samarinda\n64.72.01.1001,Rawa Makmur\n"
    )
    runner = CliRunner()
    first = runner.invoke(app, ["regions", "load", str(listing)])
    assert first.exit_code == 0, first.output
    assert "3 regions loaded" in first.output
    listing.write_text("kode,nama\n64.72.01.1001,Rawa Makmur Baru\n")
    assert runner.invoke(app, ["regions", "load", str(listing)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("kode,nama\n64.7,Salah\n")
    refused = runner.invoke(app, ["regions", "load", str(bad)])
    assert refused.exit_code == 2 and "line 2" in refused.output

    async def names() -> dict[str, tuple[str, int]]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Region.code, Region.name, Region.level))).all()
            assert await conn.scalar(select(func.count()).select_from(Region)) == 3
        await engine.dispose()
        return {code: (name, level) for code, name, level in rows}

    assert asyncio.run(names()) == {
        "64": ("Kalimantan Timur", 1),
        "6472": ("Kota Samarinda", 2),
        "6472011001": ("Rawa Makmur Baru", 4),
    }


async def test_the_demo_seeds_after_the_official_list_was_loaded(
    db: Sessions,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`make demo` loads the regions first; the demo's own regions then add nothing twice."""
    listing = tmp_path / "wilayah.csv"
    listing.write_text("kode,nama\n64.72.01.1001,Rawa Makmur\n64.72,Kota Samarinda\n")
    async with db() as session:
        await wilayah.load(session, listing)
        await session.commit()
    async with db() as session:
        assert await demo.seed(session, VAULT, datetime(2026, 11, 23, tzinfo=UTC))
        await session.commit()
    async with db() as session:
        rows = dict((await session.execute(select(Region.code, Region.name))).all())
    assert rows["6472011001"] == "Rawa Makmur" and rows["6472011002"] == "Handil Bakti"
