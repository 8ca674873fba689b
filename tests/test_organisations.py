"""Organisations as data: the roster import (CSV/XLSX, idempotent on kode, bad rows by line)."""

from __future__ import annotations

from pathlib import Path

from storage.db import Sessions
from storage.models import Organisation
from tests import test_roster
from tests.test_roster import _cli, _count, csv_bytes, load, reasons, rows, xlsx_bytes

db = test_roster.db  # the roster tests' database fixture

OG = ["kode", "nama", "jenis", "kode_wilayah", "no_hp"]
ORGS = [
    {
        "kode": "dpk-smd",
        "nama": "Disperindagkop Kota Samarinda",
        "jenis": "disperindagkop",
        "kode_wilayah": "64.72",
        "no_hp": "0812-5555-0001",
    },
    {
        "kode": "NAKER-KALTIM",
        "nama": "Disnakertrans Kaltim",
        "jenis": "Disnakertrans",
        "kode_wilayah": "64",
    },
    {
        "kode": "KOPDES-RM",
        "nama": "Kopdes Merah Putih Rawa Makmur",
        "jenis": "koperasi",
        "kode_wilayah": "64.72.01",
    },
]


async def test_organisations_import_from_csv_then_xlsx_updates_and_never_duplicates(
    db: Sessions,
) -> None:
    first = await load(db, "organisations", csv_bytes(OG, ORGS))
    assert (first.created, first.updated, first.rejected) == (3, 0, 0), reasons(first)
    saved = {o.code: o for o in await rows(db, Organisation)}
    assert set(saved) == {"DPK-SMD", "NAKER-KALTIM", "KOPDES-RM"}
    assert saved["DPK-SMD"].phone == "+6281255550001" and saved["DPK-SMD"].region_code == "6472"
    assert saved["NAKER-KALTIM"].kind == "disnakertrans" and saved["NAKER-KALTIM"].phone is None
    again = await load(db, "organisations", csv_bytes(OG, ORGS))
    assert (again.created, again.updated, again.rejected) == (0, 3, 0)
    renamed = xlsx_bytes(
        OG, [["KOPDES-RM", "Kopdes Merah Putih Rawa Makmur Jaya", "koperasi", 6472011001, None]]
    )
    third = await load(db, "organisations", renamed, "organisasi.xlsx")
    assert (third.created, third.updated, third.rejected) == (0, 1, 0), reasons(third)
    after = {o.code: o for o in await rows(db, Organisation)}
    assert len(after) == 3 and after["KOPDES-RM"].name.endswith("Jaya")
    assert (
        after["KOPDES-RM"].id == saved["KOPDES-RM"].id
        and after["KOPDES-RM"].region_code == "6472011001"
    )


async def test_bad_organisation_rows_are_refused_by_line_with_the_wrong_value(db: Sessions) -> None:
    bad = [
        ORGS[0],
        {**ORGS[1], "jenis": "bappeda"},
        {**ORGS[2], "kode_wilayah": "64.7"},
        {"kode": "X Y", "nama": "", "jenis": "lainnya", "kode_wilayah": "64", "no_hp": "12345"},
        {**ORGS[0], "nama": "Lagi"},
    ]
    report = await load(db, "organisations", csv_bytes(OG, bad))
    assert (report.created, report.rejected) == (1, 4)
    said = reasons(report)
    assert said[3] == [
        "baris 3: jenis bappeda bukan salah satu dari dinsos, disperindagkop, diskop_ukm, "
        "disnakertrans, pupr, koperasi, lainnya"
    ]
    assert said[4] == ["baris 4: kode_wilayah 64.7 bukan kode wilayah seperti 64.72 atau 64.72.01"]
    assert "baris 5: nama kosong" in said[5]
    assert "baris 5: kode hanya boleh berisi huruf, angka, '.', '-' dan '_': X Y" in said[5]
    assert "baris 5: no_hp 12345 bukan nomor HP Indonesia yang benar" in said[5]
    assert said[6] == ["baris 6: kode sudah ada di baris 2"]
    assert [o.code for o in await rows(db, Organisation)] == ["DPK-SMD"]


def test_cli_imports_organisations_and_exits_1_on_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "organisasi.csv"
    path.write_bytes(csv_bytes(OG, [*ORGS, {**ORGS[0], "kode": "DUP", "jenis": "dinas"}], sep=";"))
    result = _cli(tmp_path, "organisations", str(path))
    assert result.exit_code == 1
    assert "Dibuat: 3, diperbarui: 0, ditolak: 1" in result.output
    assert "baris 5: jenis dinas bukan salah satu dari" in result.output
    clean = tmp_path / "bersih.csv"
    clean.write_bytes(csv_bytes(OG, ORGS))
    again = _cli(tmp_path, "organisations", str(clean))
    assert again.exit_code == 0 and "Dibuat: 0, diperbarui: 3, ditolak: 0" in again.output
    assert _count(tmp_path, "organisations") == 3
