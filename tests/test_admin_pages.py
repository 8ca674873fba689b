"""The admin pages at work: escalations, requests, household views, exports, imports, simulator, staff CLI."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from storage.models import AuditEvent, Escalation, Household, ServiceRequest
from tests.admin_world import World, csrf_of, linked_chat, world_fixture  # noqa: F401
from tests.factories import NIK

CHAT = 568577002


async def test_an_escalation_from_queue_to_resolved(world: World) -> None:
    """Assign to me, note, message the household through the bot, resolve; it leaves the open queue."""
    async with await world.h.session() as session:
        await linked_chat(session, world.samarinda.household, CHAT)
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    esc = f"/admin/escalations/{world.samarinda.escalation}"
    queue = await officer.get("/admin/escalations")
    assert "Antrean eskalasi" in queue.text and esc in queue.text
    assert (
        await officer.post(esc + "/assign", data={"csrf_token": token, "assignee": "me"})
    ).status_code == 303
    assert ">Siti Aminah Rahayu</a>" in (await officer.get("/admin/escalations?assignee=me")).text
    await officer.post(
        esc + "/note", data={"csrf_token": token, "text": "Ditelepon, tidak diangkat"}
    )
    sent = await officer.post(
        esc + "/message", data={"csrf_token": token, "text": "Besok petugas datang ke rumah."}
    )
    assert sent.headers["location"].endswith("done=sent")
    await world.h.work()
    said = world.h.telegram_said(CHAT)
    assert "Pesan dari Dinas Sosial" in said[-1].text and "Besok petugas datang" in said[-1].text
    done = await officer.post(
        esc + "/resolve", data={"csrf_token": token, "outcome": "Usaha jalan lagi"}
    )
    assert done.status_code == 303
    page = await officer.get(esc)
    assert "Ditelepon, tidak diangkat" in page.text and "Usaha jalan lagi" in page.text
    assert ">Siti Aminah Rahayu</a>" not in (await officer.get("/admin/escalations")).text
    async with await world.h.session() as session:
        row = await session.get(Escalation, world.samarinda.escalation)
        assert row is not None and row.state == "resolved"


async def test_request_steps_reach_the_household(world: World) -> None:
    """A rejection needs a reason; approving tells the household on its chat, in Indonesian."""
    async with await world.h.session() as session:
        await linked_chat(session, world.samarinda.household, CHAT)
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    path = f"/admin/requests/{world.samarinda.request}"
    assert "PL-2611-0001" in (await officer.get("/admin/requests")).text
    blank = await officer.post(
        path + "/move", data={"csrf_token": token, "action": "reject", "note": " "}
    )
    assert blank.headers["location"].endswith("error=reason")
    approved = await officer.post(
        path + "/move", data={"csrf_token": token, "action": "approve", "note": "Jadwal Desember"}
    )
    assert approved.status_code == 303
    await world.h.work()
    text = world.h.telegram_said(CHAT)[-1].text
    assert "PL-2611-0001" in text and "Jadwal Desember" in text
    again = await officer.post(path + "/move", data={"csrf_token": token, "action": "approve"})
    assert again.headers["location"].endswith("error=state")
    async with await world.h.session() as session:
        row = await session.get(ServiceRequest, world.samarinda.request)
        assert row is not None and row.state == "disetujui"


async def test_every_household_view_is_audited_and_shown(world: World) -> None:
    """Opening the page records who looked; the page lists them; the NIK is only ever masked."""
    officer = await world.client("samarinda")
    admin = await world.client("kaltim")
    path = f"/admin/households/{world.samarinda.household}"
    await admin.get(path)
    page = await officer.get(path)
    assert page.status_code == 200
    assert NIK not in page.text and "6472********0001" in page.text
    assert "kaltim" in page.text  # the admin's earlier look is listed
    async with await world.h.session() as session:
        actors = list(
            await session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.action == "household.view",
                    AuditEvent.household_id == world.samarinda.household,
                )
            )
        )
    assert sorted(actors) == ["kaltim", "samarinda"]
    log = await admin.get("/admin/audit?action=household.view")
    assert "samarinda" in log.text


async def test_exports_leave_out_the_nik_unless_the_role_allows(world: World) -> None:
    """An officer's CSV has no NIK column; the admin's has it; both exports are audited."""
    officer = await world.client("samarinda")
    response = await officer.get("/admin/households/export?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert "nik" not in rows[0] and len(rows) == 2 and rows[1][1] == "Siti Aminah Rahayu"
    assert NIK not in response.text and "Rahasia" not in response.text
    admin = await world.client("kaltim")
    full = await admin.get("/admin/households/export?format=csv")
    assert "nik" in full.text.splitlines()[0] and NIK in full.text
    xlsx = await officer.get("/admin/households/export?format=xlsx")
    assert xlsx.content[:2] == b"PK"
    async with await world.h.session() as session:
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
        )
    assert [(e.actor, e.detail["with_nik"]) for e in events] == [
        ("samarinda", False),
        ("kaltim", True),
        ("samarinda", False),
    ]


HEADER = "no_kk,nik,nama,tanggal_lahir,jenis_kelamin,no_hp,alamat,kode_wilayah,desa,kecamatan,kabupaten,provinsi,desil\n"
GOOD = "6472010101000009,6472014506900009,Ani Suryani,1990-06-05,P,081300000009,Jl. Baru,64.72.01.1001,Rawa Makmur,Palaran,Kota Samarinda,Kalimantan Timur,2\n"
BROKEN = "123,6472014506900010,Tanpa KK,1990-06-05,P,081300000010,Jl. Baru,64.72.01.1001,Rawa Makmur,Palaran,Kota Samarinda,Kalimantan Timur,2\n"
FOREIGN = "6471010101000011,6471014506900011,Orang Balikpapan,1990-06-05,P,081300000011,Jl. Lain,64.71.01.1001,Desa,Balikpapan Selatan,Kota Balikpapan,Kalimantan Timur,2\n"


async def _upload(client, token: str, body: str):  # type: ignore[no-untyped-def]
    return await client.post(
        "/admin/import",
        data={"csrf_token": token, "kind": "households"},
        files={"file": ("kpm.csv", body.encode(), "text/csv")},
    )


async def _households(world: World) -> list[str]:
    async with await world.h.session() as session:
        return sorted(await session.scalars(select(Household.name)))


async def test_import_previews_then_writes_the_valid_rows(world: World) -> None:
    """The dry run lists the broken row by line and writes nothing; confirming writes the good row."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    preview = await _upload(officer, token, HEADER + GOOD + BROKEN)
    assert (
        preview.status_code == 200
        and "Baris yang salah" in preview.text
        and "<td>3</td>" in preview.text
    )
    assert "Ani Suryani" not in await _households(world)
    upload = __import__("re").search(r'name="token" value="(\w+)"', preview.text)
    assert upload
    done = await officer.post(
        "/admin/import/confirm",
        data={
            "csrf_token": token,
            "token": upload.group(1),
            "kind": "households",
            "filename": "kpm.csv",
        },
    )
    assert "Impor selesai" in done.text
    assert "Ani Suryani" in await _households(world)


async def test_import_of_another_region_writes_only_the_correct_rows(world: World) -> None:
    """A row of another kabupaten is refused with its code; the correct row is saved and counted."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    preview = await _upload(officer, token, HEADER + GOOD + FOREIGN)
    assert (
        "di luar wilayah Anda: no_kk 6471010101000011, kode_wilayah 64.71.01.1001" in preview.text
    )
    upload = __import__("re").search(r'name="token" value="(\w+)"', preview.text)
    assert upload
    done = await officer.post(
        "/admin/import/confirm",
        data={
            "csrf_token": token,
            "token": upload.group(1),
            "kind": "households",
            "filename": "kpm.csv",
        },
    )
    assert "Impor selesai" in done.text and "1 baris disimpan." in done.text
    names = await _households(world)
    assert "Ani Suryani" in names and "Orang Balikpapan" not in names


async def test_simulator_chats_through_the_core(world: World) -> None:
    """A message typed in the simulator is answered by the bot; another region's phone is 404."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    sent = await officer.post(
        "/simulator/send", data={"csrf_token": token, "phone": "081300000001", "text": "halo"}
    )
    assert sent.status_code == 303
    page = await officer.get(sent.headers["location"])
    assert "halo" in page.text and page.text.count('class="msg out"') >= 1
    # the person's message comes first, the bot's answer after it
    assert page.text.index("halo") < page.text.index("Selamat datang di Sinergi")
    assert 'name="choice"' in page.text  # the bot's choices as buttons
    foreign = await officer.post(
        "/simulator/send", data={"csrf_token": token, "phone": "081300000002", "text": "x"}
    )
    assert foreign.status_code == 404


async def test_mentor_reassign_stays_in_the_region(world: World) -> None:
    """Households move between mentors of one region only."""
    admin = await world.client("kaltim")
    token = await csrf_of(admin)
    moved = await admin.post(
        f"/admin/mentors/{world.samarinda.mentor}/reassign",
        data={
            "csrf_token": token,
            "ids": str(world.samarinda.household),
            "to": str(world.balikpapan.mentor),
        },
    )
    assert moved.status_code == 303  # the province admin covers both kota
    officer = await world.client("samarinda")
    refused = await officer.post(
        f"/admin/mentors/{world.balikpapan.mentor}/reassign",
        data={
            "csrf_token": await csrf_of(officer),
            "ids": str(world.samarinda.household),
            "to": str(world.samarinda.mentor),
        },
    )
    assert refused.status_code == 404


async def test_dashboard_counts_and_english_switch(world: World) -> None:
    """Cards count the region's records; the switch turns the page English."""
    officer = await world.client("samarinda")
    page = await officer.get("/admin")
    assert "Keluarga yang diam" in page.text and "<svg" in page.text
    switched = await officer.get("/admin/lang/en?back=/admin")
    assert switched.status_code == 303
    assert "Silent households" in (await officer.get("/admin")).text


def test_staff_add_command(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`sinergi staff add` takes a region at any of the four levels, and refuses what is none."""
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.setenv("SINERGI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/s.db")
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    def add(username: str, role: str, region: str) -> int:
        done = runner.invoke(
            app,
            ["staff", "add", username, "--role", role, "--region", region],
            input="panjang-sekali-1\n",
        )
        return done.exit_code

    for i, code in enumerate(["64", "64.72", "64.72.01", "64.72.01.1001"]):
        assert add(f"petugas{i}", "officer", code) == 0, code
    assert add("desa", "officer", "647") == 2  # no level has three digits
    assert add("negara", "officer", "") == 2  # only an admin covers the whole country
    assert add("kota", "admin", "64.72") == 2  # an admin covers a provinsi at most
    assert add("petugas0", "officer", "6472") == 2  # taken


async def test_a_report_photo_is_served_to_its_region_only(world: World) -> None:
    """A photo kept by the media store shows on the household page's link; other regions get 404."""
    from storage.media import MediaStore
    from storage.models import ProgressReport
    from tests.conftest import T0

    reference = MediaStore(world.h.rt.settings.media_path).save(
        b"\xff\xd8\xff jpeg", mime_type="image/jpeg"
    )
    async with await world.h.session() as session:
        row = ProgressReport(
            household_id=world.samarinda.household,
            period="2025-01",
            business_state="berjalan",
            omzet=1_000_000,
            photo_path=reference,
            status="complete",
            started_at=T0,
            submitted_at=T0,
        )
        session.add(row)
        await session.flush()
        report_id = row.id
    path = f"/admin/households/{world.samarinda.household}/reports/{report_id}/photo"
    officer = await world.client("samarinda")
    got = await officer.get(path)
    assert got.status_code == 200 and got.content == b"\xff\xd8\xff jpeg"
    other = await world.client("balikpapan")
    assert (await other.get(path)).status_code == 404


async def _voice_note(world: World, household_id: int, media: str) -> int:
    """A household's voice note as the chat keeps it: an audit event naming the stored file."""
    from storage import audit
    from tests.conftest import T0

    async with await world.h.session() as session:
        audit.record(
            session,
            actor="chat:1",
            action="voice_note",
            now=T0,
            household_id=household_id,
            region_code="6472011001",
            media=media,
            mime_type="audio/ogg",
        )
        await session.flush()
        row = await session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert row is not None
        return row.id


async def _listens(world: World) -> list[AuditEvent]:
    async with await world.h.session() as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "voice_note.listen")
        )
        return list(found)


async def test_a_voice_note_plays_on_the_household_page_for_its_region_only(world: World) -> None:
    """An <audio> player on the page; the file as audio/ogg to the region's staff, each listen
    audited once (the player's follow-up range requests are the same listen); 404 elsewhere."""
    from storage.media import MediaStore

    reference = MediaStore(world.h.rt.settings.media_path).save(b"OggS voice of Siti" * 50)
    household = world.samarinda.household
    note = await _voice_note(world, household, reference)
    path = f"/admin/households/{household}/voice/{note}"
    officer = await world.client("samarinda")
    page = await officer.get(f"/admin/households/{household}")
    assert f'<audio controls preload="none" src="{path}">' in page.text
    assert await _listens(world) == []  # showing the page plays nothing
    got = await officer.get(path)
    assert got.status_code == 200 and got.content == b"OggS voice of Siti" * 50
    assert got.headers["content-type"] == "audio/ogg"
    more = await officer.get(path, headers={"Range": "bytes=100-"})
    assert more.status_code == 206 and more.content == (b"OggS voice of Siti" * 50)[100:]
    listens = await _listens(world)
    assert [(e.actor, e.household_id, e.detail) for e in listens] == [
        ("samarinda", household, {"voice_note": note})
    ]
    other = await world.client("balikpapan")
    assert (await other.get(path)).status_code == 404
    elsewhere = f"/admin/households/{world.balikpapan.household}/voice/{note}"
    assert (await other.get(elsewhere)).status_code == 404
    anonymous = await world.client()
    refused = await anonymous.get(path)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/admin/login")
    assert len(await _listens(world)) == 1


async def test_a_voice_note_is_served_by_its_id_never_by_a_path(world: World) -> None:
    """A reference that points outside the media store, or at nothing, is a 404."""
    household = world.samarinda.household
    officer = await world.client("samarinda")
    for media in ("file:../../../etc/passwd", "file:ab/missing.ogg", "/etc/passwd"):
        note = await _voice_note(world, household, media)
        assert (await officer.get(f"/admin/households/{household}/voice/{note}")).status_code == 404
    await officer.get(f"/admin/households/{household}")  # an audit event that is no voice note
    async with await world.h.session() as session:
        viewed = await session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "household.view")
        )
    assert (await officer.get(f"/admin/households/{household}/voice/{viewed}")).status_code == 404
    assert await _listens(world) == []


async def test_the_mentor_page_shows_the_real_last_contact(world: World) -> None:
    """A family that chatted today shows today, not "–" (the ladder only notes contact on a reset)."""
    async with await world.h.session() as session:
        await linked_chat(session, world.samarinda.household, CHAT)  # wrote at T0, 10:00 WITA
        await session.commit()
    officer = await world.client("samarinda")
    page = await officer.get(f"/admin/mentors/{world.samarinda.mentor}")
    row = page.text[page.text.index("Siti Aminah Rahayu</a>") :].split("</tr>")[0]
    assert "23 November 2026 10.00" in row and "–" not in row.split("Rawa Makmur")[-1]
