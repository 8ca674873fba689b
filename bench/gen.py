"""Realistic benchmark data: households, mentors and programs as roster rows or straight into a database.

    from bench import gen
    gen.write_csv(path, 100_000)                         # a households roster as an operator sends it
    gen.populate("sqlite+aiosqlite:///x.db", 1_000_000)  # the fast path: batch inserts, no ORM per row

Everything is deterministic in `seed`: the same call gives the same rows. The database must
already have the schema (migrate it, or `Base.metadata.create_all`).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from storage import wilayah
from storage.crypto import NikVault, mask_nik
from storage.models import Household, Mentor, ProgramEnrollment, Region
from storage.roster.rules import HOUSEHOLD_COLUMNS

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SECRET = "bench-secret-key"
# Kalimantan Timur: a few kabupaten/kota with their codes and some kecamatan names.
PROVINCE = ("64", "Kalimantan Timur")
KABUPATEN = [
    (
        "6472",
        "Kota Samarinda",
        ["Palaran", "Samarinda Seberang", "Sungai Kunjang", "Loa Janan Ilir", "Sambutan"],
    ),
    (
        "6471",
        "Kota Balikpapan",
        ["Balikpapan Selatan", "Balikpapan Timur", "Balikpapan Utara", "Balikpapan Barat"],
    ),
    (
        "6402",
        "Kutai Kartanegara",
        ["Tenggarong", "Loa Kulu", "Sanga-Sanga", "Muara Badak", "Anggana", "Samboja"],
    ),
    ("6409", "Penajam Paser Utara", ["Penajam", "Waru", "Babulu", "Sepaku"]),
]
FIRST_F = [
    "Siti",
    "Sri",
    "Nur",
    "Dewi",
    "Wahyuni",
    "Rina",
    "Fitri",
    "Yuliana",
    "Ratna",
    "Halimah",
    "Suryani",
]
FIRST_M = [
    "Budi",
    "Ahmad",
    "Joko",
    "Slamet",
    "Agus",
    "Hendra",
    "Rudi",
    "Bambang",
    "Andi",
    "Syahrul",
    "Darmawan",
]
LAST = [
    "Aminah",
    "Santoso",
    "Lestari",
    "Riyadi",
    "Kartika",
    "Fauzi",
    "Purnomo",
    "Gunawan",
    "Rahayu",
    "Hidayat",
    "Saputra",
    "Wati",
    "Maulana",
    "Pratama",
    "Setiawan",
    "Handayani",
]
STREETS = ["Jl. Mawar", "Jl. Melati", "Jl. Pesut", "Jl. Mahakam", "Gg. Damai", "Jl. Poros", "RT 05"]
DESIL_WEIGHTS = [18, 17, 15, 13, 11, 9, 7, 5, 3, 2]  # the poorest deciles are most of the roster
ROSTER_HEADER = list(HOUSEHOLD_COLUMNS)
PROGRAM_HEADER = ["no_kk", "program", "status", "periode", "nominal", "tanggal_data", "sumber"]
PROGRAMS = [  # code, share of households, status choices, period, amount
    ("PKH", 0.45, ["disalurkan", "aktif", "dalam_proses"], "Tahap 4 2026", 750_000),
    ("BPNT", 0.55, ["aktif", "disalurkan"], "November 2026", 200_000),
    ("PBI-JK", 0.60, ["aktif"], "2026", None),
    ("BANTUAN_USAHA", 0.08, ["dalam_proses", "disalurkan", "selesai"], "2026", 5_000_000),
]


@dataclass(frozen=True)
class Desa:
    """One desa/kelurahan of the generated world, with its parents' names."""

    code: str
    name: str
    kecamatan: str
    kabupaten: str


def desas(households: int) -> list[Desa]:
    """About one desa per 250 households (at least 12): real desa of the official list, the four
    kabupaten above taken in turn first, then the rest of the province, then the country."""
    return _real_desas()[: max(12, households // 250)]


@cache
def _real_desas() -> list[Desa]:
    """Every desa of the official list (storage/wilayah), in the order `desas` hands them out."""
    names = {place.code: place.name for place in wilayah.read() if place.level < 4}
    every = [
        Desa(p.code, p.name, names.get(p.code[:6], p.code[:6]), names.get(p.code[:4], p.code[:4]))
        for p in wilayah.read()
        if p.level == 4
    ]
    ours = [[d for d in every if d.code.startswith(code)] for code, _name, _kecs in KABUPATEN]
    turns = [d for round_ in zip_longest(*ours) for d in round_ if d is not None]
    taken = {d.code for d in turns}
    province = [d for d in every if d.code.startswith(PROVINCE[0]) and d.code not in taken]
    taken |= {d.code for d in province}
    return turns + province + [d for d in every if d.code not in taken]


@dataclass(frozen=True)
class Person:
    """One generated household, before it becomes a roster row or table values."""

    index: int
    no_kk: str
    nik: str
    name: str
    born: date
    gender: str
    phone: str
    desa: Desa
    desil: int
    categories: str


def people(n: int, seed: int = 1, start: int = 0) -> Iterator[Person]:
    """`n` households with valid NIKs (birth date inside, +40 for women), unique No. KK and phones."""
    rng = random.Random(seed)
    world = desas(start + n)
    for i in range(start, start + n):
        desa = world[i % len(world)]
        gender = "P" if rng.random() < 0.55 else "L"
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(50 * 365))
        day = born.day + 40 if gender == "P" else born.day
        nik = f"{desa.code[:6]}{day:02d}{born.month:02d}{born.year % 100:02d}{i % 10_000:04d}"
        first = rng.choice(FIRST_F if gender == "P" else FIRST_M)
        categories = []
        if gender == "P" and rng.random() < 0.3:
            categories.append("perempuan_kepala_keluarga")
        if born.year < 1962:
            categories.append("lansia")
        if rng.random() < 0.04:
            categories.append("disabilitas")
        yield Person(
            index=i,
            no_kk=f"{desa.code[:6]}{i:010d}",
            nik=nik,
            name=f"{first} {rng.choice(LAST)}",
            born=born,
            gender=gender,
            phone=f"+62813{i:08d}",
            desa=desa,
            desil=rng.choices(range(1, 11), weights=DESIL_WEIGHTS)[0],
            categories=";".join(categories),
        )


def roster_row(p: Person) -> list[str]:
    """The person as an operator's spreadsheet has it: mixed phone and date styles, dotted codes."""
    style = p.index % 3
    phone = ("0" + p.phone[3:], p.phone[1:], p.phone)[style]
    born = p.born.isoformat() if style else p.born.strftime("%d-%m-%Y")
    code = p.desa.code
    dotted = f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"
    return [
        p.no_kk,
        p.nik,
        p.name,
        born,
        p.gender,
        phone,
        f"{STREETS[p.index % len(STREETS)]} No. {p.index % 97}",
        dotted if style != 1 else code,
        p.desa.name,
        p.desa.kecamatan,
        p.desa.kabupaten,
        PROVINCE[1],
        str(p.desil),
        p.categories,
        "",
    ]


def write_csv(path: Path, n: int, *, seed: int = 1, sep: str = ";") -> Path:
    """A households roster of `n` rows (UTF-8 with BOM and semicolons, as Excel in Indonesia saves it)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=sep)
        writer.writerow(ROSTER_HEADER)
        writer.writerows(roster_row(p) for p in people(n, seed))
    return path


def write_programs_csv(path: Path, n: int, *, seed: int = 1) -> Path:
    """A programs roster for the first `n` generated households (each in a share of the programs)."""
    rng = random.Random(seed + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROGRAM_HEADER)
        for p in people(n, seed):
            for code, share, statuses, period, amount in PROGRAMS:
                if rng.random() < share:
                    writer.writerow(
                        [
                            p.no_kk,
                            code,
                            rng.choice(statuses),
                            period,
                            amount or "",
                            "2026-11-10",
                            "DTSEN Kemensos",
                        ]
                    )
    return path


def household_values(
    p: Person, vault: NikVault, now: datetime, token: str | None = None
) -> dict[str, Any]:
    """The person as `households` table values (the NIK encrypted, hashed and masked)."""
    return {
        "no_kk": p.no_kk,
        "nik_hash": vault.hash(p.nik),
        "nik_encrypted": token or vault.encrypt(p.nik),
        "nik_masked": mask_nik(p.nik),
        "name": p.name,
        "birth_date": p.born,
        "gender": p.gender,
        "phone": p.phone,
        "address": f"{STREETS[p.index % len(STREETS)]} No. {p.index % 97}",
        "region_code": p.desa.code,
        "desa": p.desa.name,
        "kecamatan": p.desa.kecamatan,
        "kabupaten": p.desa.kabupaten,
        "provinsi": PROVINCE[1],
        "desil": p.desil,
        "categories": p.categories,
        "mentor_phone": None,
        "mentor_id": None,
        "created_at": now,
        "updated_at": now,
    }


def sync_url(url: str) -> str:
    """The synchronous driver's URL for an async one (the fast path needs no event loop)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}[parsed.get_backend_name()]
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


@dataclass
class Populated:
    """What `populate` wrote."""

    households: int
    mentors: int
    programs: int
    first_household_id: int


def populate(
    url: str,
    households: int,
    *,
    seed: int = 1,
    start: int = 0,
    secret: str = SECRET,
    now: datetime = NOW,
    mentors: bool = True,
    programs: bool = True,
    encrypt_each: bool = True,
    chunk: int = 5_000,
) -> Populated:
    """Write households `start`…`start + households - 1` (plus regions, a mentor per desa, programs).

    `encrypt_each=False` stores one shared encrypted placeholder instead of each NIK (saves about
    14 µs a row at a million rows); hashes and masks are still each household's own.
    """
    engine = sa.create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _bulk_pragmas)
    vault = NikVault(secret)
    try:
        with engine.begin() as conn:
            world = desas(start + households)
            _regions(conn, world)
            mentor_ids = _mentors(conn, world, now) if mentors else {}
        token = None if encrypt_each else vault.encrypt("0000000000000000")
        rows = (
            household_values(p, vault, now, token) | {"mentor_id": mentor_ids.get(p.desa.code)}
            for p in people(households, seed, start)
        )
        first, written = _bulk(engine, Household.__table__, rows, chunk)
        enrolled = 0
        if programs:
            enrolled = _bulk(
                engine, ProgramEnrollment.__table__, _enrollments(first, written, seed, now), chunk
            )[1]
    finally:
        engine.dispose()
    return Populated(written, len(mentor_ids), enrolled, first)


def _bulk_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """A big page cache: random keys (NIK hashes) into six indexes thrash SQLite's default 2 MB."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MB, for this loading connection only
    cursor.close()


def _regions(conn: Connection, world: list[Desa]) -> None:
    """Every provinsi, kabupaten, kecamatan and desa row of the generated world (skipping ones present)."""
    rows = {PROVINCE[0]: (PROVINCE[1], 1)}
    for d in world:
        rows[d.code[:4]] = (d.kabupaten, 2)
        rows[d.code[:6]] = (d.kecamatan, 3)
        rows[d.code] = (d.name, 4)
    present = set(conn.scalars(sa.select(Region.code)))
    values = [
        {"code": c, "name": n, "level": lvl} for c, (n, lvl) in rows.items() if c not in present
    ]
    if values:
        conn.execute(sa.insert(Region), values)


def _mentors(conn: Connection, world: list[Desa], now: datetime) -> dict[str, int]:
    """One mentor per desa (phones +62812…); returns desa code → mentor id."""
    values = [
        {
            "name": f"Pendamping {d.name}",
            "phone": f"+62812{i:08d}",
            "region_code": d.code,
            "email": None,
            "created_at": now,
            "updated_at": now,
        }
        for i, d in enumerate(world)
    ]
    present = set(conn.scalars(sa.select(Mentor.phone)))
    fresh = [v for v in values if v["phone"] not in present]
    if fresh:
        conn.execute(sa.insert(Mentor), fresh)
    return {
        code: mentor_id
        for code, mentor_id in conn.execute(sa.select(Mentor.region_code, Mentor.id))
    }


def _next_id(engine: sa.Engine, table: Any) -> int:
    """The first free id: rows get explicit ids so programs can point at them without a lookup."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) or 0) + 1


def _bulk(
    engine: sa.Engine, table: Any, rows: Iterator[dict[str, Any]], chunk: int
) -> tuple[int, int]:
    """Insert with explicit ids in chunks, one transaction each; (first id, rows written)."""
    first = _next_id(engine, table)
    count = 0
    batch: list[dict[str, Any]] = []
    for values in rows:
        batch.append({"id": first + count, **values})
        count += 1
        if len(batch) >= chunk:
            _flush(engine, table, batch)
            batch = []
    _flush(engine, table, batch)
    _fix_sequence(engine, table)
    return first, count


def _flush(engine: sa.Engine, table: Any, batch: list[dict[str, Any]]) -> None:
    """One chunk in one transaction."""
    if not batch:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _copy(conn, table, batch)
        else:
            _executemany(conn, table, batch)


def _executemany(conn: Connection, table: Any, batch: list[dict[str, Any]]) -> None:
    """SQLite: the driver's executemany with values already in SQLite's text forms (no per-row ORM work)."""
    columns = list(batch[0])
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
        [tuple(_sqlite_value(values[c]) for c in columns) for values in batch],
    )


def _sqlite_value(value: Any) -> Any:
    """Datetimes as naive UTC text and dates as ISO text, as SQLAlchemy stores them on SQLite."""
    return _sqlite_text(value) if isinstance(value, date) else value


@lru_cache(maxsize=65_536)  # every row has the same `now` and birth dates repeat: strftime is slow
def _sqlite_text(value: date) -> str:
    """One date or datetime in SQLite's text form."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def _copy(conn: Connection, table: Any, batch: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY: the fastest way in, row values streamed through psycopg."""
    columns = list(batch[0])
    raw: Any = conn.connection.dbapi_connection  # psycopg's own connection: it has copy()
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"  # noqa: S608 - our own table and columns
        ) as copy,
    ):
        for values in batch:
            copy.write_row([values[c] for c in columns])


def _fix_sequence(engine: sa.Engine, table: Any) -> None:
    """After explicit ids, PostgreSQL's sequence must move past them (SQLite needs nothing)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
            )
        )


def _enrollments(first: int, count: int, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Each household in a share of the programs, as of the last import."""
    rng = random.Random(seed + 1)
    for household_id in range(first, first + count):
        for code, share, statuses, period, amount in PROGRAMS:
            if rng.random() < share:
                yield {
                    "household_id": household_id,
                    "program": code,
                    "status": rng.choice(statuses),
                    "period": period,
                    "amount": amount,
                    "as_of": date(2026, 11, 10),
                    "source": "DTSEN Kemensos",
                    "note": None,
                    "updated_at": now,
                }
