"""NIKs people type into free text are masked before they are stored, in every table and page."""

from __future__ import annotations

import sqlalchemy as sa

from storage.models import Base
from tests.admin_world import World, csrf_of, world_fixture  # noqa: F401
from tests.case_helpers import ask_training, linked, linked_mentor, menu_key
from tests.drivers import TelegramDriver

# Someone's NIK as copied from a family card: plain, in groups of four, with dots.
NIK = "6472014107850003"
SPACED = "6472 0141 0785 0003"
DOTTED = "6472.0141.0785.0003"
FORMS = (NIK, SPACED, DOTTED)


async def test_niks_typed_in_free_text_are_masked_in_every_table_and_page(world: World) -> None:
    h = world.h
    person = TelegramDriver(h)
    await linked(person)
    said = await ask_training(person, note=f"Untuk anak saya, NIK {SPACED}")
    assert "Nomor: PL-" in said[-1].text

    mentor = await linked_mentor(h)
    said = await menu_key(mentor, "Catat kunjungan")
    said = await mentor.text("aminah")
    said = await mentor.press(said[-1].key_of("Tidak bertemu"))
    said = await mentor.text(f"Tetangga bilang NIK suaminya {DOTTED}")
    assert "sudah dicatat" in said[-1].text

    staff = await world.client("kaltim")
    csrf = await csrf_of(staff)
    escalation = world.samarinda.escalation
    noted = await staff.post(
        f"/admin/escalations/{escalation}/note",
        data={"csrf_token": csrf, "text": f"Sudah dicek, NIK {NIK} cocok"},
    )
    assert noted.status_code == 303

    async with await h.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(sa.select(table))).all():
                for form in FORMS:
                    assert form not in repr(tuple(row)), f"clear NIK in {table.name}"
        requests = (await s.execute(sa.text("SELECT id, details FROM service_requests"))).all()
    assert any(details and "6472********0003" in details for _id, details in requests)
    pages = [
        "/admin/requests",
        *(f"/admin/requests/{request_id}" for request_id, _details in requests),
        f"/admin/escalations/{escalation}",
        f"/admin/households/{world.samarinda.household}",
    ]
    for path in pages:
        page = await staff.get(path)
        assert page.status_code == 200, path
        for form in FORMS:
            assert form not in page.text, f"clear NIK on {path}"
    await staff.aclose()
