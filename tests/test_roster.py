"""Roster import: households, mentors and programs from CSV and XLSX, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from bot.cli import app
from bot.commands.roster import problem_text
from locales.i18n import use_locale
from storage.crypto import NikVault
from storage.db import Sessions, is_postgres, make_engine, make_sessions, unit_of_work
from storage.models import (
    AuditEvent,
    Base,
    ChatIdentity,
    Household,
    Mentor,
    ProgramEnrollment,
    Region,
)
from storage.roster import ImportReport, import_roster
from storage.roster.rules import HOUSEHOLD_COLUMNS
from tests import factories
from tests.conftest import T0

VAULT = NikVault("test-secret-key")
HH = list(HOUSEHOLD_COLUMNS)
MT = ["nama", "no_hp", "kode_wilayah", "email"]
PG = ["no_kk", "program", "status", "periode", "nominal", "tanggal_data", "sumber", "keterangan"]


def kk(i: int) -> str:
    return f"64720101010{i:05d}"


def nik(i: int) -> str:
    """A valid NIK: a woman born 25-03-1981 in kecamatan 647201, serial i."""
    return f"647201650381{i:04d}"


def household(i: int, **change: Any) -> dict[str, Any]:
    row = {
        "no_kk": kk(i),
        "nik": nik(i),
        "nama": f"Siti Aminah {i}",
        "tanggal_lahir": "25-03-1981",
        "jenis_kelamin": "P",
        "no_hp": f"0813-0000-{i:04d}",
        "alamat": f"Jl. Mawar No. {i}",
        "kode_wilayah": "64.72.01.1001",
        "desa": "Rawa Makmur",
        "kecamatan": "Palaran",
        "kabupaten": "Kota Samarinda",
        "provinsi": "Kalimantan Timur",
        "desil": "1",
        "kategori": "perempuan_kepala_keluarga",
        "pendamping_hp": "",
    }
    return {**row, **change}


def program(i: int, **change: Any) -> dict[str, Any]:
    row = {
        "no_kk": kk(i),
        "program": "PKH",
        "status": "disalurkan",
        "periode": "Tahap 4 2026",
        "nominal": "1.500.000",
        "tanggal_data": "2026-11-10",
        "sumber": "DTSEN Kemensos",
        "keterangan": "",
    }
    return {**row, **change}


def csv_bytes(
    header: list[str], rows: list[dict[str, Any]], sep: str = ",", bom: bool = False
) -> bytes:
    """A CSV as Excel writes it: quoted where needed, CRLF, maybe a BOM."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep)
    writer.writerow(
        [h.upper() if i % 2 else f" {h} " for i, h in enumerate(header)]
    )  # headers loosely typed
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def xlsx_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """An XLSX whose first sheet holds the rows (cells keep their Python types: ints, dates)."""
    book = Workbook()
    sheet = book.active
    sheet.append(header + ["catatan_lain"])  # an unknown column is ignored
    for row in rows:
        sheet.append(row + ["abaikan"])
    book.create_sheet("Sheet2").append(["no_kk"])  # only the first sheet counts
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


async def load(
    db: Sessions, kind: str, data: bytes, filename: str = "roster.csv", dry_run: bool = False
) -> ImportReport:
    async with unit_of_work(db) as session:
        return await import_roster(
            session, kind, data, filename, vault=VAULT, now=T0, dry_run=dry_run
        )


async def rows(db: Sessions, model: Any) -> list[Any]:
    async with db() as session:
        return list(await session.scalars(select(model).order_by(model.__mapper__.primary_key[0])))


def reasons(report: ImportReport) -> dict[int, list[str]]:
    """Each refused line with its reasons, in Indonesian."""
    found: dict[int, list[str]] = {}
    with use_locale("id"):
        for p in report.problems:
            found.setdefault(p.line, []).append(problem_text(p))
    return found


# --- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";"])
async def test_households_csv_with_bom_either_separator(db: Sessions, sep: str) -> None:
    data = csv_bytes(
        HH,
        [
            household(1),
            household(2, kategori="lansia;disabilitas", jenis_kelamin="L"),
            household(3, kode_wilayah="6472011002", desa="Handil Bakti"),
        ],
        sep=sep,
        bom=True,
    )
    report = await load(db, "households", data)
    assert (report.created, report.updated, report.rejected, report.ok) == (3, 0, 0, True)
    first, second, third = await rows(db, Household)
    assert (
        first.no_kk == kk(1)
        and first.phone == "+6281300000001"
        and first.birth_date == date(1981, 3, 25)
    )
    assert (
        first.nik_masked == "6472********0001" and first.categories == "perempuan_kepala_keluarga"
    )
    assert (second.gender, second.categories, second.desil) == ("L", "lansia;disabilitas", 1)
    assert third.region_code == "6472011002" and third.desa == "Handil Bakti"
    regions = {r.code: (r.name, r.level) for r in await rows(db, Region)}
    assert regions == {
        "64": ("Kalimantan Timur", 1),
        "6472": ("Kota Samarinda", 2),
        "647201": ("Palaran", 3),
        "6472011001": ("Rawa Makmur", 4),
        "6472011002": ("Handil Bakti", 4),
    }


async def test_households_xlsx_with_excel_types(db: Sessions) -> None:
    # Excel keeps long numbers as numbers, dates as dates, and drops a phone's leading zero.
    row = [
        int(kk(1)),
        int(nik(1)),
        "Siti Aminah",
        datetime(1981, 3, 25),
        "p",
        81300000001,
        "Jl. Mawar",
        "64.72.01.1001",
        "Rawa Makmur",
        "Palaran",
        "Kota Samarinda",
        "Kalimantan Timur",
        2.0,
        "Perempuan Kepala Keluarga",
        None,
    ]
    report = await load(db, "households", xlsx_bytes(HH, [row]), "kpm.xlsx")
    assert (report.created, report.rejected) == (1, 0), reasons(report)
    (saved,) = await rows(db, Household)
    assert (
        saved.no_kk,
        saved.phone,
        saved.birth_date,
        saved.gender,
        saved.desil,
        saved.categories,
    ) == (kk(1), "+6281300000001", date(1981, 3, 25), "P", 2, "perempuan_kepala_keluarga")
    assert VAULT.decrypt(saved.nik_encrypted) == nik(1)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_mentors_csv_and_xlsx(db: Sessions, fmt: str) -> None:
    table = [
        ["Rina Marlina", "0812-0000-0001", "64.72.01.1001", "rina@example.id"],
        ["Agus Salim", "+62 812 0000 0002", "647201", ""],
    ]
    data = (
        xlsx_bytes(MT, table)
        if fmt == "xlsx"
        else csv_bytes(MT, [dict(zip(MT, r, strict=True)) for r in table], sep=";", bom=True)
    )
    report = await load(db, "mentors", data, f"pendamping.{fmt}")
    assert (report.created, report.rejected) == (2, 0), reasons(report)
    rina, agus = await rows(db, Mentor)
    assert (rina.phone, rina.region_code, rina.email) == (
        "+6281200000001",
        "6472011001",
        "rina@example.id",
    )
    assert (agus.phone, agus.region_code, agus.email) == ("+6281200000002", "647201", None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_programs_csv_and_xlsx(db: Sessions, fmt: str) -> None:
    await load(db, "households", csv_bytes(HH, [household(1), household(2)]))
    table = [
        program(1),
        program(1, program="bpnt", status="Aktif", periode="November 2026", nominal="Rp200.000"),
        program(2, program="PELATIHAN", status="dalam proses", periode="2026", nominal=""),
    ]
    if fmt == "xlsx":
        for row in table:
            row["tanggal_data"] = datetime(2026, 11, 10)
            row["nominal"] = {"1.500.000": 1500000.0, "Rp200.000": 200000}.get(row["nominal"])
        data = xlsx_bytes(PG, [[r[h] for h in PG] for r in table])
    else:
        data = csv_bytes(PG, table)
    report = await load(db, "programs", data, f"program.{fmt}")
    assert (report.created, report.rejected) == (3, 0), reasons(report)
    saved = {(p.program, p.period): p for p in await rows(db, ProgramEnrollment)}
    assert saved["PKH", "Tahap 4 2026"].amount == 1_500_000
    assert (saved["BPNT", "November 2026"].status, saved["BPNT", "November 2026"].amount) == (
        "aktif",
        200_000,
    )
    training = saved["PELATIHAN", "2026"]
    assert (training.status, training.amount, training.as_of) == (
        "dalam_proses",
        None,
        date(2026, 11, 10),
    )


# --- idempotence -------------------------------------------------------------------------------


async def test_reimport_updates_and_never_duplicates(db: Sessions) -> None:
    households = csv_bytes(HH, [household(i) for i in range(1, 6)])
    programs = csv_bytes(PG, [program(i) for i in range(1, 6)])
    mentors = csv_bytes(
        MT, [{"nama": "Rina", "no_hp": "081200000001", "kode_wilayah": "6472011001"}]
    )
    for kind, data in (("households", households), ("programs", programs), ("mentors", mentors)):
        first = await load(db, kind, data)
        again = await load(db, kind, data)
        assert (first.created, first.updated) == (again.updated, again.created)
        assert again.created == 0 and again.updated > 0 and again.ok
    assert [len(await rows(db, m)) for m in (Household, ProgramEnrollment, Mentor)] == [5, 5, 1]
    changed = csv_bytes(PG, [program(1, status="selesai", nominal="750000")])
    assert (await load(db, "programs", changed)).updated == 1
    pkh = (await rows(db, ProgramEnrollment))[0]
    assert (pkh.status, pkh.amount) == ("selesai", 750_000)


async def test_reimport_keeps_chat_link_and_opt_out(db: Sessions) -> None:
    await load(db, "households", csv_bytes(HH, [household(1)]))
    (before,) = await rows(db, Household)
    async with unit_of_work(db) as s:
        s.add(
            ChatIdentity(
                channel="telegram",
                external_id="568577002",
                household_id=before.id,
                link_method="contact",
                consent_at=T0,
                opted_out=True,
                created_at=T0,
            )
        )
    report = await load(
        db,
        "households",
        csv_bytes(HH, [household(1, nama="Siti Aminah Rahayu", no_hp="081399999999")]),
    )
    assert report.updated == 1
    (after,) = await rows(db, Household)
    (identity,) = await rows(db, ChatIdentity)
    assert (
        after.id == before.id
        and after.name == "Siti Aminah Rahayu"
        and after.phone == "+6281399999999"
    )
    assert (identity.household_id, identity.opted_out, identity.link_method) == (
        before.id,
        True,
        "contact",
    )


# --- broken rows ---------------------------------------------------------------------------------


async def test_broken_households_are_refused_by_line_and_good_ones_written(db: Sessions) -> None:
    table = [
        household(1),  # line 2: good
        household(2, nik="647201650381000"),  # line 3: 15-digit NIK
        household(3, tanggal_lahir="31-02-1980"),  # line 4: impossible date
        household(4, no_hp="12345"),  # line 5: bad phone
        household(5, jenis_kelamin="X"),  # line 6: unknown gender
        household(6, desil="11"),  # line 7: desil 11
        household(7, no_kk=""),  # line 8: no No. KK
        household(8, no_kk=kk(1)),  # line 9: No. KK again
        household(9, nik="6472019903810009"),  # line 10: month 03, day 99: impossible NIK
        household(10, kode_wilayah="64.72.01"),  # line 11: not a desa
        household(11, kategori="lansia;janda"),  # line 12: unknown category
        household(12),  # line 13: good
    ]
    report = await load(db, "households", csv_bytes(HH, table))
    assert (report.created, report.rejected, report.ok) == (2, 10, False)
    found = reasons(report)
    assert found[3] == ["baris 3: NIK harus 16 angka"]
    assert found[4] == [
        "baris 4: tanggal_lahir bukan tanggal yang benar (tulis TTTT-BB-HH atau HH-BB-TTTT)"
    ]
    assert found[5] == ["baris 5: no_hp bukan nomor HP Indonesia yang sah"]
    assert found[6] == ["baris 6: jenis_kelamin harus L atau P"]
    assert found[7] == ["baris 7: desil harus angka 1 sampai 10"]
    assert found[8] == ["baris 8: no_kk kosong"]
    assert found[9] == ["baris 9: No. KK ini sudah ada di baris 2"]
    assert found[10] == [
        "baris 10: NIK tidak sah: kode wilayah atau tanggal lahir di dalamnya tidak mungkin"
    ]
    assert found[11] == ["baris 11: kode_wilayah harus kode desa 10 angka, misalnya 64.72.01.1001"]
    assert found[12] == ["baris 12: kategori tidak dikenal: janda"]
    assert [h.no_kk for h in await rows(db, Household)] == [kk(1), kk(12)]


async def test_broken_programs_and_mentors(db: Sessions) -> None:
    await load(db, "households", csv_bytes(HH, [household(1)]))
    table = [
        program(1),
        program(9),  # line 3: unknown No. KK
        program(1, periode="Tahap 1 2027", nominal="satu juta"),  # line 4: not a number
        program(1, tanggal_data="2026-13-01"),  # line 5: impossible date
        program(1),
    ]  # line 6: the same key as line 2
    report = await load(db, "programs", csv_bytes(PG, table))
    assert (report.created, report.rejected) == (1, 4)
    found = reasons(report)
    assert found[3] == ["baris 3: No. KK belum ada di data keluarga; impor data keluarga dulu"]
    assert found[4] == ["baris 4: nominal harus rupiah bulat, misalnya 1500000"]
    assert found[5][0].startswith("baris 5: tanggal_data bukan tanggal")
    assert found[6] == ["baris 6: no_kk, program dan periode yang sama sudah ada di baris 2"]
    mentors = [
        {"nama": "Rina", "no_hp": "0812", "kode_wilayah": "6472011001"},
        {"nama": "Agus", "no_hp": "081200000002", "kode_wilayah": "64.7"},
        {"nama": "", "no_hp": "081200000003", "kode_wilayah": "647201", "email": "bukan-email"},
    ]
    report = await load(db, "mentors", csv_bytes(MT, mentors))
    assert (report.created, report.rejected) == (0, 3)
    assert reasons(report) == {
        2: ["baris 2: no_hp bukan nomor HP Indonesia yang sah"],
        3: ["baris 3: kode_wilayah harus kode wilayah, misalnya 64.72.01 atau 64.72.01.1001"],
        4: ["baris 4: nama kosong", "baris 4: email bukan alamat yang sah"],
    }


async def test_whole_file_problems_write_nothing(db: Sessions) -> None:
    missing = await load(db, "households", csv_bytes(["no_kk", "nama"], [household(1)]))
    assert reasons(missing) == {0: ["file: Kolom wajib tidak ada: nik, kode_wilayah"]}
    latin1 = await load(
        db, "households", "no_kk;nik;nama;kode_wilayah\n1;2;José;3\n".encode("latin-1")
    )
    assert reasons(latin1)[0][0].startswith("file: File bukan teks UTF-8")
    broken = await load(db, "households", b"PK\x03\x04 not really a zip", "kpm.xlsx")
    assert reasons(broken) == {0: ["file: File Excel tidak bisa dibuka; apakah benar XLSX?"]}
    assert not broken.ok and await rows(db, Household) == []


async def test_a_row_the_database_refuses_is_the_only_one_rejected(db: Sessions) -> None:
    # A trigger stands in for any refusal the checks above cannot foresee (a constraint added later).
    async with unit_of_work(db) as s:
        postgres = is_postgres(s)
        for statement in _refusing_trigger(postgres, kk(3)):
            await s.execute(text(statement))
    try:
        report = await load(db, "households", csv_bytes(HH, [household(i) for i in range(1, 6)]))
        assert (report.created, report.rejected) == (4, 1)
        assert reasons(report) == {4: ["baris 4: basis data menolak baris ini"]}
        assert [h.no_kk for h in await rows(db, Household)] == [kk(1), kk(2), kk(4), kk(5)]
    finally:
        async with unit_of_work(db) as s:
            await s.execute(
                text("DROP TRIGGER IF EXISTS refuse_kk" + (" ON households" if postgres else ""))
            )


def _refusing_trigger(postgres: bool, no_kk: str) -> list[str]:
    if not postgres:
        return [
            f"CREATE TRIGGER refuse_kk BEFORE INSERT ON households WHEN NEW.no_kk = '{no_kk}' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
    return [
        "CREATE OR REPLACE FUNCTION refuse_kk() RETURNS trigger AS $$ BEGIN "
        f"IF NEW.no_kk = '{no_kk}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_kk BEFORE INSERT ON households FOR EACH ROW EXECUTE FUNCTION refuse_kk()",
    ]


async def test_dry_run_reports_and_writes_nothing(db: Sessions) -> None:
    data = csv_bytes(HH, [household(1), household(2, nik="123")])
    report = await load(db, "households", data, dry_run=True)
    assert (report.created, report.rejected, report.dry_run) == (1, 1, True)
    assert (
        await rows(db, Household) == []
        and await rows(db, Region) == []
        and await rows(db, AuditEvent) == []
    )
    await load(db, "households", data)
    again = await load(db, "households", data, dry_run=True)
    assert (again.created, again.updated) == (0, 1)


async def test_nik_never_stored_in_clear(db: Sessions) -> None:
    await load(db, "households", csv_bytes(HH, [household(i) for i in range(1, 4)]))
    async with db() as s:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, sa.String | sa.Text | sa.JSON):
                    hits = await s.scalar(
                        select(func.count()).where(sa.cast(column, sa.Text).contains(nik(2)))
                    )
                    assert hits == 0, f"{table.name}.{column.name} holds a NIK"
        saved = await s.scalar(select(Household).where(Household.no_kk == kk(2)))
    assert (
        saved is not None
        and saved.nik_hash == VAULT.hash(nik(2))
        and VAULT.decrypt(saved.nik_encrypted) == nik(2)
    )


# --- mentors -------------------------------------------------------------------------------------


async def test_mentor_by_pendamping_hp_else_longest_region_prefix(db: Sessions) -> None:
    mentors = [
        {"nama": "Desa 1001", "no_hp": "081200000001", "kode_wilayah": "64.72.01.1001"},
        {"nama": "Kecamatan", "no_hp": "081200000002", "kode_wilayah": "64.72.01"},
        {"nama": "Pribadi", "no_hp": "081200000003", "kode_wilayah": "64.72.02"},
    ]
    await load(db, "mentors", csv_bytes(MT, mentors))
    table = [
        household(1),
        household(2, kode_wilayah="6472011002"),
        household(3, pendamping_hp="+6281200000003"),
        household(4, kode_wilayah="6474011001"),
    ]
    await load(db, "households", csv_bytes(HH, table))
    ids = {m.name: m.id for m in await rows(db, Mentor)}
    saved = {h.no_kk: h for h in await rows(db, Household)}
    assert saved[kk(1)].mentor_id == ids["Desa 1001"]
    assert saved[kk(2)].mentor_id == ids["Kecamatan"]
    assert (saved[kk(3)].mentor_id, saved[kk(3)].mentor_phone) == (ids["Pribadi"], "+6281200000003")
    assert saved[kk(4)].mentor_id is None


async def test_mentors_imported_later_are_given_their_households(db: Sessions) -> None:
    table = [
        household(1),
        household(2, pendamping_hp="0812-0000-0009"),
        household(3, kode_wilayah="6474011001"),
    ]
    await load(db, "households", csv_bytes(HH, table))
    assert {h.mentor_id for h in await rows(db, Household)} == {None}
    mentors = [
        {"nama": "Rina", "no_hp": "081200000001", "kode_wilayah": "6472"},
        {"nama": "Wulan", "no_hp": "081200000009", "kode_wilayah": "6371"},
    ]
    await load(db, "mentors", csv_bytes(MT, mentors))
    ids = {m.name: m.id for m in await rows(db, Mentor)}
    saved = {h.no_kk: h.mentor_id for h in await rows(db, Household)}
    assert saved == {kk(1): ids["Rina"], kk(2): ids["Wulan"], kk(3): None}


# --- the command line ----------------------------------------------------------------------------


def _cli(tmp_path: Path, *args: str) -> Any:
    env = {
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SINERGI_DATA_DIR": str(tmp_path),
        "SINERGI_SECRET_KEY": "test-secret-key-for-the-command-line",
        "SINERGI_TELEGRAM_TOKEN": None,
        "SINERGI_DEFAULT_LOCALE": "id",
    }
    return CliRunner().invoke(app, ["import", *args], env=env)


def _count(tmp_path: Path, table: str) -> int:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    engine.dispose()
    return int(count)


def test_cli_reports_in_indonesian_and_exits_1_on_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "kpm.csv"
    path.write_bytes(
        csv_bytes(HH, [household(1), household(2, nik="647201650381000")], sep=";", bom=True)
    )
    dry = _cli(tmp_path, "households", str(path), "--dry-run")
    assert dry.exit_code == 1 and "Uji coba: tidak ada yang disimpan." in dry.output
    assert _count(tmp_path, "households") == 0
    result = _cli(tmp_path, "households", str(path))
    assert result.exit_code == 1
    assert "Dibuat: 1, diperbarui: 0, ditolak: 1" in result.output
    assert "baris 3: NIK harus 16 angka" in result.output
    assert nik(1) not in result.output and "647201650381000" not in result.output
    assert _count(tmp_path, "households") == 1


def test_cli_clean_files_exit_0(tmp_path: Path) -> None:
    (tmp_path / "kpm.csv").write_bytes(csv_bytes(HH, [household(1)]))
    (tmp_path / "pendamping.xlsx").write_bytes(
        xlsx_bytes(MT, [["Rina", "081200000001", "6472011001", None]])
    )
    (tmp_path / "program.csv").write_bytes(csv_bytes(PG, [program(1)]))
    for kind, name in (
        ("households", "kpm.csv"),
        ("mentors", "pendamping.xlsx"),
        ("programs", "program.csv"),
    ):
        result = _cli(tmp_path, kind, str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert "Dibuat: 1, diperbarui: 0, ditolak: 0" in result.output
    assert _count(tmp_path, "audit_events") == 3


# --- the benchmark's data generator (others' benchmarks rely on it) ---------------------------


async def test_generated_roster_imports_without_a_rejection(db: Sessions, tmp_path: Path) -> None:
    from bench import gen

    data = gen.write_csv(tmp_path / "kpm.csv", 300).read_bytes()
    report = await load(db, "households", data)
    assert (report.created, report.rejected) == (300, 0), reasons(report)
    programs = await load(
        db, "programs", gen.write_programs_csv(tmp_path / "p.csv", 300).read_bytes()
    )
    assert programs.ok and programs.created > 300


async def test_a_long_import_reports_its_progress_batch_by_batch(
    db: Sessions, tmp_path: Path
) -> None:
    from bench import gen

    data = gen.write_csv(tmp_path / "kpm.csv", 2500).read_bytes()
    told: list[int] = []
    async with unit_of_work(db) as session:
        report = await import_roster(
            session, "households", data, "kpm.csv", vault=VAULT, now=T0, progress=told.append
        )
    assert report.created == 2500 and told == [2000, 500]  # after each batch is written


async def test_generator_fast_path_matches_the_import(database_url: str, db: Sessions) -> None:
    from bench import gen

    done = gen.populate(database_url, 500, secret="test-secret-key")
    assert (done.households, done.mentors) == (500, 12) and done.programs > 500
    saved = await rows(db, Household)
    assert len(saved) == 500 and all(h.mentor_id for h in saved)
    first = next(gen.people(1))
    assert (
        saved[0].nik_hash == VAULT.hash(first.nik)
        and VAULT.decrypt(saved[0].nik_encrypted) == first.nik
    )
    async with unit_of_work(db) as s:  # the id sequence moved past the explicit ids
        added = await factories.household(s, VAULT, no_kk="6472019999999999")
    assert added.id == 501


# --- streamed from a path (issue #16: a million rows with flat memory) -------------------------


async def load_path(db: Sessions, kind: str, path: Path) -> ImportReport:
    async with unit_of_work(db) as session:
        return await import_roster(session, kind, path, path.name, vault=VAULT, now=T0)


async def test_a_streamed_file_is_imported_like_its_bytes(db: Sessions, tmp_path: Path) -> None:
    table = [household(i) for i in range(1, 2102)]  # past one batch of 2000
    table[5] = household(6, nik="123")  # line 7: a bad row
    table[2050] = household(9999, no_kk=kk(3))  # line 2052, in the second batch: line 4's KK
    table[2060] = household(9998, no_kk=kk(2040))  # line 2062: a KK of the same second batch
    path = tmp_path / "kpm.csv"
    path.write_bytes(csv_bytes(HH, table, sep=";", bom=True))
    report = await load_path(db, "households", path)
    assert (report.created, report.rejected) == (2098, 3)
    found = reasons(report)
    assert found[7] == ["baris 7: NIK harus 16 angka"]
    assert found[2052] == ["baris 2052: No. KK ini sudah ada di baris 4"]
    assert found[2062] == ["baris 2062: No. KK ini sudah ada di baris 2041"]
    saved = {h.no_kk: h for h in await rows(db, Household)}
    assert len(saved) == 2098 and saved[kk(3)].name == "Siti Aminah 3"
    again = await load_path(db, "households", path)
    assert (again.created, again.updated, again.rejected) == (0, 2098, 3)
    assert reasons(again) == found  # idempotent, the same rows refused with the same words
    assert len(await rows(db, Household)) == 2098


async def test_a_streamed_xlsx_and_a_file_that_is_not_utf8(db: Sessions, tmp_path: Path) -> None:
    book = tmp_path / "kpm.xlsx"
    book.write_bytes(xlsx_bytes(HH, [list(household(i).values()) for i in (1, 2, 1)]))
    report = await load_path(db, "households", book)
    assert (report.created, report.rejected) == (2, 1)
    assert reasons(report)[4] == ["baris 4: No. KK ini sudah ada di baris 2"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_bytes(HH, [household(3, nama="Siti Aminah")]) + "Désa".encode("latin-1"))
    refused = await load_path(db, "households", latin)
    assert (refused.created, [p.line for p in refused.problems]) == (0, [0])
    assert len(await rows(db, Household)) == 2


async def test_a_reimport_keeps_the_ciphertext_of_an_unchanged_nik(db: Sessions) -> None:
    await load(db, "households", csv_bytes(HH, [household(1), household(2)]))
    before = {h.no_kk: h.nik_encrypted for h in await rows(db, Household)}
    moved = csv_bytes(HH, [household(1, alamat="Jl. Baru 1"), household(2, nik=nik(77))])
    assert (await load(db, "households", moved)).updated == 2
    after = {h.no_kk: h for h in await rows(db, Household)}
    assert after[kk(1)].nik_encrypted == before[kk(1)]  # not encrypted again: the same token
    assert after[kk(1)].address == "Jl. Baru 1"
    assert after[kk(2)].nik_encrypted != before[kk(2)]
    assert VAULT.decrypt(after[kk(2)].nik_encrypted) == nik(77)
    assert after[kk(2)].nik_hash == VAULT.hash(nik(77))


async def test_two_imports_in_one_transaction_check_duplicates_each_on_its_own(
    db: Sessions,
) -> None:
    data = csv_bytes(HH, [household(1), household(2)])
    async with unit_of_work(db) as session:
        for _ in range(2):
            report = await import_roster(
                session, "households", data, "kpm.csv", vault=VAULT, now=T0
            )
            assert report.ok, reasons(report)
    assert len(await rows(db, Household)) == 2
