"""The official list of Indonesia's regions (Kemendagri codes): provinsi, kabupaten/kota, kecamatan, desa.

Shipped as `kemendagri.csv.gz` (its source, date and licence are in SOURCES.md): rosters are
checked against it, so a desa code that does not exist is rejected with its value, and
`sinergi regions load` puts every name into the `regions` table, so pages show
"Rawa Makmur" beside 64.72.01.1001. An updated list is loaded with `sinergi regions load FILE`.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import insert_of
from storage.models import Region

LIST = Path(__file__).with_name("kemendagri.csv.gz")
LEVELS = {2: 1, 4: 2, 6: 3, 10: 4}  # digits → tingkat: provinsi, kabupaten/kota, kecamatan, desa
BATCH = 5_000


@dataclass(frozen=True)
class Place:
    """One region of the list: its code without dots, its name, its level (1 provinsi … 4 desa)."""

    code: str
    name: str
    level: int


class RegionListError(ValueError):
    """A region list file that cannot be read; the message says why, in plain words."""


def read(path: Path = LIST) -> Iterator[Place]:
    """The places of a list file: `kode,nama[,tingkat]`, plain or gzipped, codes with or without dots."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    if not reader.fieldnames or not {"kode", "nama"} <= set(reader.fieldnames):
        raise RegionListError("the region list needs the columns kode and nama")
    for number, row in enumerate(reader, start=2):
        code = (row.get("kode") or "").replace(".", "").strip()
        name = (row.get("nama") or "").strip()
        if not code.isdigit() or len(code) not in LEVELS or not name:
            raise RegionListError(
                f"line {number}: kode must be 2, 4, 6 or 10 digits and nama given"
            )
        yield Place(code, name[:120], LEVELS[len(code)])


@cache
def known_codes() -> frozenset[str]:
    """Every code of the shipped list (read once per process)."""
    return frozenset(place.code for place in read())


def exists(code: str) -> bool:
    """Whether `code` (digits only) is a region of the official list."""
    return code in known_codes()


async def load(session: AsyncSession, path: Path = LIST) -> int:
    """Every place of the list into `regions`, names updated; how many rows were written."""
    written = 0
    places = read(path)
    while batch := list(islice(places, BATCH)):
        stmt = insert_of(session, Region).values(
            [{"code": p.code, "name": p.name, "level": p.level} for p in batch]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={"name": stmt.excluded.name, "level": stmt.excluded.level},
        )
        await session.execute(stmt)
        written += len(batch)
    return written


async def loaded(session: AsyncSession) -> bool:
    """Whether the regions table holds the official list (checked by a desa of the list)."""
    return await session.scalar(select(Region.code).where(Region.level == 4).limit(1)) is not None


def build(data_dir: Path, out: Path = LIST) -> int:
    """`kemendagri.csv.gz` from idn-area-data's CSV files (see SOURCES.md); how many places."""
    files = (("provinces.csv", 1), ("regencies.csv", 2), ("districts.csv", 3), ("villages.csv", 4))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["kode", "nama", "tingkat"])
    count = 0
    for name, level in files:
        with (data_dir / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                writer.writerow([row["code"].replace(".", ""), row["name"].strip(), level])
                count += 1
    with gzip.GzipFile(out, "wb", mtime=0) as packed:  # mtime 0: the same list, the same bytes
        packed.write(buffer.getvalue().encode())
    return count
