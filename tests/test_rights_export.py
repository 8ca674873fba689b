"""The access right for staff: one household's data as a file, masked, region-scoped, audited."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select, update

from storage.models import AuditEvent, ServiceRequest
from tests.admin_world import World, linked_chat, world_fixture  # noqa: F401

NIK = "6472016503810001"
EVIL = '=HYPERLINK("http://evil.example","klik")'


def _rows(content: bytes) -> list[list[str]]:
    """A CSV download as rows."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_a_households_file_holds_its_data_masked_and_is_audited(world: World) -> None:
    household_id = world.samarinda.household
    async with await world.h.session() as s:
        await linked_chat(s, household_id, 568577002)
        await s.execute(
            update(ServiceRequest)
            .where(ServiceRequest.household_id == household_id)
            .values(details=EVIL)
        )
    officer = await world.client("samarinda")
    page = await officer.get(f"/admin/households/{household_id}")
    assert f"/admin/households/{household_id}/export?format=xlsx" in page.text
    response = await officer.get(f"/admin/households/{household_id}/export?format=csv")
    assert response.status_code == 200
    assert 'filename="data-keluarga-0001.csv"' in response.headers["content-disposition"]
    rows = _rows(response.content)
    assert rows[0] == ["bagian", "nomor", "kolom", "nilai"]
    found = {(r[0], r[2]): r[3] for r in rows[1:]}
    assert found[("household", "name")] == "Siti Aminah Rahayu"
    assert found[("household", "nik_masked")] == "6472********0001"
    assert found[("household", "mentor")] == "Mentor Siti Aminah Rahayu"
    assert found[("request", "reference")] == "PL-2611-0001"
    assert found[("request", "details")] == "'" + EVIL  # a formula comes out as text
    assert found[("report", "omzet")] == "1500000"
    assert found[("chat", "channel")] == "telegram"
    assert any(r[0] == "message" and "Selamat datang" in r[3] for r in rows)
    assert ("household", "nik_encrypted") not in found and ("household", "nik_hash") not in found
    assert NIK not in response.text and "Rahasia" not in response.text
    xlsx = await officer.get(f"/admin/households/{household_id}/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + EVIL in [c.value for c in cells] and all(c.data_type == "s" for c in cells)
    async with await world.h.session() as s:
        events = list(
            await s.scalars(
                select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
            )
        )
    assert [(e.actor, e.household_id, e.detail["what"], e.detail["format"]) for e in events] == [
        ("samarinda", household_id, "household", "csv"),
        ("samarinda", household_id, "household", "xlsx"),
    ]
    assert events[0].detail["rows"] == len(rows) - 1


async def test_a_household_of_another_region_is_404_and_unaudited(world: World) -> None:
    officer = await world.client("samarinda")
    foreign = world.balikpapan.household
    assert (await officer.get(f"/admin/households/{foreign}/export")).status_code == 404
    assert (await officer.get("/admin/households/999999/export")).status_code == 404
    anonymous = await world.client()
    answer = await anonymous.get(f"/admin/households/{world.samarinda.household}/export")
    assert answer.status_code in (303, 401) and "Siti" not in answer.text
    async with await world.h.session() as s:
        assert await s.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None
