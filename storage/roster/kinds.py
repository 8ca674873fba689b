"""The rosters: households, mentors, programs and organisations, each validated, keyed and upserted its own way."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import NikVault
from storage.models import Household, Mentor, Organisation, ProgramEnrollment, Region
from storage.roster import rules, seen
from storage.roster.read import Row
from storage.roster.report import N_, ImportReport
from storage.roster.write import Pending, tally, upsert, write_batch

REGION_LEVELS = (("provinsi", 2, 1), ("kabupaten", 4, 2), ("kecamatan", 6, 3), ("desa", 10, 4))
MENTOR_PREFIXES = (10, 6, 4, 2)  # the most specific region a mentor covers wins
HH = cast(Table, Household.__table__)
MT = cast(Table, Mentor.__table__)
PE = cast(Table, ProgramEnrollment.__table__)
RG = cast(Table, Region.__table__)
OG = cast(Table, Organisation.__table__)
Good = tuple[int, dict[str, Any]]  # a row that passed: (line, table values)


class Importer:
    """Validates a chunk of rows, refuses the bad ones, and upserts the rest in one batch."""

    duplicate = N_("No. KK is already on line {first}")  # the reason when a key comes twice

    def __init__(
        self,
        session: AsyncSession,
        report: ImportReport,
        *,
        vault: NikVault,
        now: datetime,
        dry_run: bool,
    ) -> None:
        self.session, self.report, self.vault, self.now, self.dry_run = (
            session,
            report,
            vault,
            now,
            dry_run,
        )
        self.stmt: Any = None

    async def prepare(self) -> None:
        """Load what every row needs (nothing by default)."""

    async def remember_keys(self) -> None:
        """Start the table of the keys met so far (the duplicate check)."""
        await seen.create(self.session)

    async def forget_keys(self) -> None:
        """The file is read: its keys are no longer needed."""
        await seen.forget(self.session)

    async def finish(self) -> None:
        """Set-based work after the last batch (nothing by default)."""

    def check(self, cells: dict[str, str]) -> tuple[dict[str, Any], rules.Reasons]:
        raise NotImplementedError

    def key(self, record: dict[str, Any]) -> Any:
        raise NotImplementedError

    async def validate(
        self, chunk: list[Row]
    ) -> tuple[list[Good], list[tuple[int, rules.Reasons]]]:
        """The rows that pass every check, and the refused ones with all their reasons.

        A key met before, in this chunk or an earlier one (asked of the table of keys, once per
        chunk), is a duplicate; the line that first had it is named.
        """
        checked = [(line, *self.check(cells)) for line, cells in chunk]
        keys = [_key_text(self.key(record)) for _, record, _ in checked]
        earlier = await seen.first_lines(self.session, list({k for k in keys if k is not None}))
        first: dict[str, int] = {}  # keys this chunk brings first → their line
        good, refused = [], []
        for (line, record, why), key in zip(checked, keys, strict=True):
            if key is not None and (before := earlier.get(key) or first.get(key)):
                why.append((self.duplicate, {"first": before}))
            elif key is not None:
                first[key] = line
            if why:
                refused.append((line, why))
            else:
                good.append((line, record))
        await seen.remember(self.session, first)
        return good, refused

    async def write(self, rows: list[Good]) -> None:
        raise NotImplementedError

    async def store(self, pending: list[Pending]) -> None:
        """Upsert the rows, or on a dry run only count what would have been written."""
        if self.dry_run:
            tally(self.report, pending)
        else:
            await write_batch(self.session, self.stmt, pending, self.report)


def _key_text(key: Any) -> str | None:
    """A row's key as one string for the table of keys (a composite key joined by a separator)."""
    if key is None:
        return None
    return "\x1f".join(key) if isinstance(key, tuple) else str(key)


class HouseholdImport(Importer):
    """Households keyed on no_kk; a mentor from pendamping_hp, else the one covering the desa."""

    async def prepare(self) -> None:
        """Mentors are few: load them once instead of looking one up per row."""
        self.by_phone: dict[str, int] = {}
        self.by_region: dict[str, int] = {}
        for mentor_id, phone, region in await self.session.execute(
            select(Mentor.id, Mentor.phone, Mentor.region_code).order_by(Mentor.id.desc())
        ):
            self.by_phone[phone] = mentor_id
            self.by_region[region] = mentor_id  # the lowest id wins: rows come newest first
        self.regions: dict[str, tuple[str, int]] = {}
        self.stmt = upsert(
            self.session,
            HH,
            ["no_kk"],
            list(_household_columns()),
            {"mentor_id": lambda new: func.coalesce(new.mentor_id, HH.c.mentor_id)},
        )

    def check(self, cells: dict[str, str]) -> tuple[dict[str, Any], rules.Reasons]:
        return rules.household(cells, self.vault, seal=False)

    def key(self, record: dict[str, Any]) -> Any:
        return record["no_kk"]

    def mentor_of(self, record: dict[str, Any]) -> int | None:
        """The household's own pendamping, else the mentor of its desa, kecamatan, kabupaten or provinsi."""
        if record["mentor_phone"] in self.by_phone:
            return self.by_phone[record["mentor_phone"]]
        code = record["region_code"]
        return next(
            (self.by_region[code[:n]] for n in MENTOR_PREFIXES if code[:n] in self.by_region), None
        )

    async def write(self, rows: list[Good]) -> None:
        """One upsert for the chunk; the region names are kept for the end."""
        stored = await self._stored_niks([r["no_kk"] for _, r in rows])
        pending: list[Pending] = []
        for line, record in rows:
            self._seal(record, stored.get(record["no_kk"]))
            record.update(
                mentor_id=self.mentor_of(record), created_at=self.now, updated_at=self.now
            )
            self._note_regions(record)
            pending.append((line, record, record["no_kk"] in stored))
        await self.store(pending)

    async def _stored_niks(self, keys: list[str]) -> dict[str, tuple[str, str]]:
        """The households of this chunk already stored: no_kk → (NIK hash, encrypted NIK)."""
        found = await self.session.execute(
            select(Household.no_kk, Household.nik_hash, Household.nik_encrypted).where(
                Household.no_kk.in_(keys)
            )
        )
        return {no_kk: (nik_hash, sealed) for no_kk, nik_hash, sealed in found}

    def _seal(self, record: dict[str, Any], stored: tuple[str, str] | None) -> None:
        """Encrypt the row's NIK, unless the stored one has the same keyed hash: a re-import
        keeps that ciphertext (encryption is most of a row's cost). A dry run encrypts nothing."""
        nik = record.pop("nik")
        if stored is not None and stored[0] == record["nik_hash"]:
            record["nik_encrypted"] = stored[1]
        else:
            record["nik_encrypted"] = "" if self.dry_run else self.vault.encrypt(nik)

    def _note_regions(self, record: dict[str, Any]) -> None:
        """Remember each level's code and name (the last row naming it wins)."""
        for column, digits, level in REGION_LEVELS:
            if record[column]:
                self.regions[record["region_code"][:digits]] = (record[column], level)

    async def finish(self) -> None:
        """Upsert the region names the rows carried."""
        if self.dry_run or not self.regions:
            return
        stmt = upsert(self.session, RG, ["code"], ["name", "level"])
        values = [
            {"code": c, "name": n, "level": lvl} for c, (n, lvl) in sorted(self.regions.items())
        ]
        for start in range(0, len(values), 2000):
            await self.session.execute(stmt, values[start : start + 2000])


def _household_columns() -> list[str]:
    """Every households column a re-import may overwrite (never id or created_at)."""
    return [c.name for c in HH.columns if c.name not in ("id", "created_at")]


class MentorImport(Importer):
    """Mentors keyed on no_hp; afterwards, households without a mentor get theirs."""

    duplicate = N_("no_hp is already on line {first}")

    async def prepare(self) -> None:
        self.stmt = upsert(
            self.session, MT, ["phone"], ["name", "region_code", "email", "gender", "updated_at"]
        )

    def check(self, cells: dict[str, str]) -> tuple[dict[str, Any], rules.Reasons]:
        return rules.mentor(cells)

    def key(self, record: dict[str, Any]) -> Any:
        return record["phone"]

    async def write(self, rows: list[Good]) -> None:
        """One upsert for the chunk."""
        existing = await _existing(self.session, Mentor.phone, [r["phone"] for _, r in rows])
        pending = [
            (line, {**r, "created_at": self.now, "updated_at": self.now}, r["phone"] in existing)
            for line, r in rows
        ]
        await self.store(pending)

    async def finish(self) -> None:
        """Households get the mentor their pendamping_hp names, then those still without one their region's."""
        if not self.dry_run:
            await resolve_mentors(self.session)


async def resolve_mentors(session: AsyncSession) -> None:
    """Set-based: pendamping_hp first, then the longest region prefix, for households lacking a mentor."""
    named = select(Mentor.id).where(Mentor.phone == Household.mentor_phone).scalar_subquery()
    await session.execute(
        update(Household)
        .where(
            Household.mentor_phone.is_not(None),
            named.is_not(None),
            or_(Household.mentor_id.is_(None), Household.mentor_id != named),
        )
        .values(mentor_id=named)
        .execution_options(synchronize_session=False)
    )
    by_prefix = [
        select(func.min(Mentor.id))
        .where(Mentor.region_code == func.substr(Household.region_code, 1, n))
        .scalar_subquery()
        for n in MENTOR_PREFIXES
    ]
    await session.execute(
        update(Household)
        .where(Household.mentor_id.is_(None))
        .values(mentor_id=func.coalesce(*by_prefix))
        .execution_options(synchronize_session=False)
    )


class ProgramImport(Importer):
    """Enrollments keyed on (no_kk, program, periode); the household must be on the roster already."""

    duplicate = N_("the same no_kk, program and periode are already on line {first}")

    async def prepare(self) -> None:
        columns = ["status", "amount", "as_of", "source", "note", "updated_at"]
        self.stmt = upsert(self.session, PE, ["household_id", "program", "period"], columns)

    def check(self, cells: dict[str, str]) -> tuple[dict[str, Any], rules.Reasons]:
        return rules.program(cells)

    def key(self, record: dict[str, Any]) -> Any:
        return (record["no_kk"], record["program"], record["period"]) if record["no_kk"] else None

    async def write(self, rows: list[Good]) -> None:
        """Find the households, refuse rows of unknown ones, and upsert the rest."""
        found = await self.session.execute(
            select(Household.no_kk, Household.id).where(
                Household.no_kk.in_({r["no_kk"] for _, r in rows})
            )
        )
        ids: dict[str, int] = {no_kk: household_id for no_kk, household_id in found}
        known = []
        for line, record in rows:
            if record["no_kk"] not in ids:
                self.report.refuse(
                    line, [(N_("No. KK is not on the households roster; import it first"), {})]
                )
                continue
            values = {k: v for k, v in record.items() if k != "no_kk"}
            known.append(
                (line, {**values, "household_id": ids[record["no_kk"]], "updated_at": self.now})
            )
        existing = await self._existing(known)
        pending = [
            (line, v, (v["household_id"], v["program"], v["period"]) in existing)
            for line, v in known
        ]
        await self.store(pending)

    async def _existing(self, rows: list[Good]) -> set[tuple[int, str, str]]:
        """The (household, program, period) keys of this chunk that are already stored."""
        keys = {(v["household_id"], v["program"], v["period"]) for _, v in rows}
        if not keys:
            return set()
        found = await self.session.execute(
            select(PE.c.household_id, PE.c.program, PE.c.period).where(
                PE.c.household_id.in_({k[0] for k in keys})
            )
        )
        return {(row[0], row[1], row[2]) for row in found} & keys


class OrganisationImport(Importer):
    """Organisations keyed on kode; a re-import updates name, kind, region, phone and savings."""

    duplicate = N_("kode is already on line {first}")

    async def prepare(self) -> None:
        columns = [
            "name",
            "kind",
            "region_code",
            "phone",
            "simpanan_pokok",
            "simpanan_wajib",
            "updated_at",
        ]
        self.stmt = upsert(self.session, OG, ["code"], columns)

    def check(self, cells: dict[str, str]) -> tuple[dict[str, Any], rules.Reasons]:
        return rules.organisation(cells)

    def key(self, record: dict[str, Any]) -> Any:
        return record["code"]

    async def write(self, rows: list[Good]) -> None:
        """One upsert for the chunk."""
        existing = await _existing(self.session, Organisation.code, [r["code"] for _, r in rows])
        pending = [
            (line, {**r, "created_at": self.now, "updated_at": self.now}, r["code"] in existing)
            for line, r in rows
        ]
        await self.store(pending)


async def _existing(session: AsyncSession, column: Any, keys: list[str]) -> set[str]:
    """Which of these keys are already stored (one query per chunk, never per row)."""
    if not keys:
        return set()
    return set(await session.scalars(select(column).where(column.in_(keys))))


IMPORTERS: dict[str, type[Importer]] = {
    "households": HouseholdImport,
    "mentors": MentorImport,
    "programs": ProgramImport,
    "organisations": OrganisationImport,
}
