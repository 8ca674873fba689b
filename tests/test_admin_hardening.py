"""The admin view under hostile input: other regions' keys, formulas, entities, odd numbers, proxies, idle sessions."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from bot import workers
from scheduler import retention
from storage.models import AuditEvent, Escalation, Household, ImportJob, Mentor
from storage.roster import uploads
from tests.admin_world import World, csrf_of, world_fixture  # noqa: F401

TOKEN = re.compile(r'name="token" value="(\w+)"')
HOUSEHOLDS = (
    "no_kk,nik,nama,tanggal_lahir,jenis_kelamin,no_hp,alamat,kode_wilayah,desa,kecamatan,"
    "kabupaten,provinsi,desil\n"
)
SAMARINDA_ROW = (
    "{kk},6472014506900009,{name},1990-06-05,P,081300000009,Jl. Baru,64.72.01.1001,"
    "Rawa Makmur,Palaran,Kota Samarinda,Kalimantan Timur,2\n"
)
BALIKPAPAN_KK = "6471010101000002"  # the household of the other region in tests/admin_world.py


async def _upload(client: httpx.AsyncClient, kind: str, name: str, body: bytes) -> httpx.Response:
    """The officer's preview of an upload."""
    return await client.post(
        "/admin/import",
        data={"csrf_token": await csrf_of(client), "kind": kind},
        files={"file": (name, body, "application/octet-stream")},
    )


async def _confirm(client: httpx.AsyncClient, kind: str, preview: httpx.Response) -> httpx.Response:
    """Confirming the previewed upload."""
    token = TOKEN.search(preview.text)
    assert token, preview.text[:500]
    return await client.post(
        "/admin/import/confirm",
        data={
            "csrf_token": await csrf_of(client),
            "token": token.group(1),
            "kind": kind,
            "filename": "x.csv",
        },
    )


def _problems(page: str) -> list[str]:
    """The reasons the preview gives, by row (the line number cell left out)."""
    return re.findall(r"<td>\d+</td>\s*<td>([^<]*)</td>", page)


# 8: a roster row cannot take another region's record -------------------------------------------


async def test_a_roster_row_with_another_regions_no_kk_moves_nothing(world: World) -> None:
    """Samarinda's officer uploads Balikpapan's No. KK with Samarinda's code: refused, unmoved, unrevealed."""
    officer = await world.client("samarinda")
    stolen = SAMARINDA_ROW.format(kk=BALIKPAPAN_KK, name="Diambil Alih")
    foreign_code = SAMARINDA_ROW.format(kk="6471010101000077", name="Kode Lain").replace(
        "64.72.01.1001", "64.71.01.1001"
    )
    preview = await _upload(officer, "households", "kpm.csv", (HOUSEHOLDS + stolen).encode())
    assert "di luar wilayah Anda" in preview.text
    assert TOKEN.search(preview.text) is None  # no correct row: nothing to confirm
    async with await world.h.session() as session:
        row = await session.scalar(select(Household).where(Household.no_kk == BALIKPAPAN_KK))
    assert row is not None and row.region_code.startswith("6471")
    assert row.name == "Rahasia Balikpapan"
    # The reason is word for word that of a row with a foreign code, each with the row's own
    # values: nothing says the key exists elsewhere.
    other = await _upload(officer, "households", "kpm.csv", (HOUSEHOLDS + foreign_code).encode())
    assert _problems(preview.text) == [
        "Baris ini di luar wilayah Anda: no_kk 6471010101000002, kode_wilayah 64.72.01.1001"
    ]
    assert _problems(other.text) == [
        "Baris ini di luar wilayah Anda: no_kk 6471010101000077, kode_wilayah 64.71.01.1001"
    ]


async def test_a_mentor_row_with_another_regions_phone_takes_nothing(world: World) -> None:
    """A mentors row carrying Balikpapan's mentor phone and Samarinda's code is refused like any outside row."""
    officer = await world.client("samarinda")
    body = "nama,no_hp,kode_wilayah\nPendamping Baru,081200000002,64.72.01.1001\n"
    preview = await _upload(officer, "mentors", "pendamping.csv", body.encode())
    assert "di luar wilayah Anda" in preview.text and TOKEN.search(preview.text) is None
    async with await world.h.session() as session:
        mentor = await session.scalar(select(Mentor).where(Mentor.phone == "+6281200000002"))
    assert mentor is not None and mentor.region_code.startswith("6471")
    assert mentor.name != "Pendamping Baru"


# 10: formulas and entities ----------------------------------------------------------------------


async def test_exports_write_formula_cells_as_text(world: World) -> None:
    """A household named `=HYPERLINK(…)` comes out of CSV and XLSX as text, never as a formula."""
    evil = '=HYPERLINK("http://evil.example","klik")'
    async with await world.h.session() as session:
        await session.execute(
            update(Household)
            .where(Household.id == world.samarinda.household)
            .values(name=evil, desa="@SUM(A1)", kecamatan="-2+3")
        )
        await session.commit()
    officer = await world.client("samarinda")
    text = (await officer.get("/admin/households/export?format=csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(A1)" in text and "'-2+3" in text
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.splitlines())
    xlsx = await officer.get("/admin/households/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)
    assert "'" + evil in [c.value for c in cells]
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for c in cells)


def _xlsx_with_entity() -> bytes:
    """A roster workbook whose sheet declares an entity (the start of a billion laughs)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HOUSEHOLDS.strip().split(","))
    sheet.append(SAMARINDA_ROW.format(kk="6472010101000055", name="ENTITYNAME").strip().split(","))
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace("ENTITYNAME", "&laugh;&laugh;")
                data = ('<!DOCTYPE worksheet [<!ENTITY laugh "Ha">]>' + text).encode()
            dst.writestr(item, data)
    return out.getvalue()


async def test_an_xlsx_declaring_an_entity_is_refused_not_expanded(world: World) -> None:
    """An uploaded XLSX is parsed with defusedxml: an entity refuses the file, nothing is written."""
    officer = await world.client("samarinda")
    preview = await _upload(officer, "households", "kpm.xlsx", _xlsx_with_entity())
    assert preview.status_code == 200
    assert "File Excel tidak bisa dibuka" in preview.text
    async with await world.h.session() as session:
        names = list(await session.scalars(select(Household.name)))
    assert "HaHa" not in names


# 13: previews never reach the disk, and their sealed files go after an hour ---------------------


def _previews(world: World) -> list[Path]:
    folder = world.h.rt.settings.data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def _kept_files(world: World) -> int:
    """How many import jobs still keep their (sealed) uploaded file."""
    async with await world.h.session() as session:
        return len(
            list(await session.scalars(select(ImportJob.id).where(ImportJob.upload.is_not(None))))
        )


async def test_abandoned_previews_are_deleted_after_an_hour_and_at_start(world: World) -> None:
    """A preview left alone for an hour cannot be confirmed (404) and the sweep empties its file;
    no upload is ever written to the disk, and a start still clears what an older version left."""
    officer = await world.client("samarinda")
    body = (HOUSEHOLDS + SAMARINDA_ROW.format(kk="6472010101000066", name="Lupa")).encode()
    abandoned = await _upload(officer, "households", "kpm.csv", body)
    assert _previews(world) == [] and await _kept_files(world) == 1
    world.h.advance(minutes=61)
    officer = await world.client("samarinda")  # the idle session ended too; the same officer
    late = await _confirm(officer, "households", abandoned)
    assert late.status_code == 404
    async with await world.h.session() as session:
        assert await retention.expire_previews(session, world.h.now, folder=None) == 1
    assert await _kept_files(world) == 0
    assert "lebih dari satu jam" in (await officer.get(_job_of(abandoned))).text
    world.h.advance(days=30)  # the sealed report goes too, a month after the job ended
    async with await world.h.session() as session:
        assert await retention.expire_previews(session, world.h.now, folder=None) == 1
    officer = await world.client("samarinda")
    assert (await officer.get(_job_of(abandoned))).status_code == 404
    folder = world.h.rt.settings.data_dir / "uploads"
    uploads.keep(folder, 7, "abc123", body, now=world.h.now)  # what an older version left
    tasks = workers.start(world.h.rt)  # what `sinergi serve` does at start
    for task in tasks:
        task.cancel()
    assert _previews(world) == []


def _job_of(preview: httpx.Response) -> str:
    """The page of the job a preview belongs to (its confirm form names it)."""
    found = TOKEN.search(preview.text)
    assert found, preview.text[-1000:]
    return f"/admin/import/jobs/{found.group(1)}"


# 14: forwarded headers --------------------------------------------------------------------------


async def _failed_login_address(
    world: World, client: httpx.AsyncClient, headers: dict[str, str]
) -> str:
    """The address the audit log records for one wrong password."""
    form = await client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    await client.post(
        "/admin/login",
        headers=headers,
        data={"username": "samarinda", "password": "salah-sekali", "csrf_token": token.group(1)},
    )
    async with await world.h.session() as session:
        event = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "login.failed")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert event is not None
    return str(event.detail["address"])


async def test_forwarded_headers_are_believed_only_from_trusted_proxies(world: World) -> None:
    """X-Forwarded-For/Proto from a peer not in SINERGI_TRUSTED_PROXIES change nothing; from one, they count."""
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    client = await world.client()  # the test transport's peer is 127.0.0.1
    assert await _failed_login_address(world, client, forged) == "127.0.0.1"
    officer = await world.client()
    form = await officer.get("/admin/login", headers=forged)
    assert "secure" not in form.headers["set-cookie"].lower()

    world.h.rt.settings.trusted_proxies = "127.0.0.0/8, ::1"
    chained = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https"}
    assert await _failed_login_address(world, client, chained) == "203.0.113.9"
    form = await officer.get("/admin/login", headers=forged)
    assert "secure" in form.headers["set-cookie"].lower()


# 15: odd numbers --------------------------------------------------------------------------------


async def test_odd_numbers_in_admin_urls_and_forms_never_give_500(world: World) -> None:
    """Superscript digits and ids past 64 bits answer 200/303/400/404 and change nothing."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    huge = str(2**70)
    for path in (
        "/admin/escalations?page=²",
        "/admin/escalations?assignee=²",
        "/admin/households?page=" + huge,
        "/admin/audit?page=²",
        f"/admin/escalations/{huge}",
        "/admin/escalations/²",
        f"/admin/households/{huge}",
        f"/admin/mentors/{huge}",
        f"/admin/requests/{huge}",
        f"/admin/households/{world.samarinda.household}/reports/{huge}/photo",
    ):
        response = await officer.get(path)
        assert response.status_code in (200, 303, 400, 403, 404), (path, response.status_code)
    for path, data in (
        ("/admin/escalations/bulk-assign", {"ids": ["²", huge], "assignee": "²"}),
        (f"/admin/escalations/{world.samarinda.escalation}/assign", {"assignee": huge}),
        (f"/admin/mentors/{world.samarinda.mentor}/reassign", {"ids": ["²"], "to": huge}),
        (f"/admin/escalations/{huge}/note", {"text": "x"}),
        (
            f"/admin/graduation/households/{world.samarinda.household}/referral",
            {"referral_id": huge, "state": "diterima"},
        ),
    ):
        response = await officer.post(path, data={"csrf_token": token, **data})
        assert response.status_code in (303, 400, 404), (path, response.status_code)
    async with await world.h.session() as session:
        esc = await session.get(Escalation, world.samarinda.escalation)
    assert esc is not None and esc.assignee_id is None and esc.state == "open"


# 16: idle sessions ------------------------------------------------------------------------------


async def test_a_staff_session_ends_after_thirty_idle_minutes(world: World) -> None:
    """Pages keep a session alive; half an hour without one sends the officer to the login page."""
    officer = await world.client("samarinda")
    for _ in range(3):  # 60 minutes of work, a page every 20 minutes: still signed in
        world.h.advance(minutes=20)
        assert (await officer.get("/admin")).status_code == 200
    world.h.advance(minutes=31)
    gone = await officer.get("/admin")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/admin/login")
