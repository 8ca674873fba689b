"""Mentor pieces: new reports and requests, flagged families, and recording a visit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import visits
from storage.models import MentorVisit
from tests.case_helpers import (
    ask_training,
    ids,
    linked,
    linked_mentor,
    menu_key,
    other_mentor_household,
    report_in_chat,
    seed,
)
from tests.drivers import TelegramDriver
from tests.harness import Harness


async def _visits(h: Harness) -> list[MentorVisit]:
    async with await h.session() as s:
        return list(await s.scalars(select(MentorVisit).order_by(MentorVisit.id)))


async def test_mentor_sees_new_reports_and_requests_of_own_families_only(harness: Harness) -> None:
    h = harness
    await seed(h)
    await other_mentor_household(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    await report_in_chat(person, problem="Tidak ada masalah")
    await ask_training(person)
    said = await menu_key(mentor, "Laporan & pengajuan baru")
    text = said[-1].text
    assert (
        "Siti Aminah Rahayu (No. KK akhiran 0001), November 2026: Berjalan · omzet Rp1.500.000"
        in text
    )
    assert "PL-2611-0001 · Pelatihan: Pengolahan pangan" in text
    assert "Wati" not in text


async def test_flagged_family_then_a_recorded_visit_clears_it(harness: Harness) -> None:
    h = harness
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(mentor, "Keluarga perlu perhatian")
    assert "tidak ada keluarga yang perlu perhatian" in said[-1].text
    await report_in_chat(person, state="Tutup", problem="Modal", urgent="Ya, mendesak")
    h.advance(days=1)
    said = await menu_key(mentor, "Keluarga perlu perhatian")
    assert "Alasan: usaha tutup, masalah mendesak" in said[-1].text
    said = await mentor.press(said[-1].key_of("Siti"))
    assert "Apakah Anda bertemu keluarganya?" in said[-1].text
    said = await mentor.press(said[-1].key_of("Ya, bertemu"))
    said = await mentor.press(said[-1].key_of("Tutup"))
    said = await mentor.text("Ibu sakit, warung tutup dua minggu. " * 150)  # a 5,000-character note
    assert "Kunjungan ke Siti Aminah Rahayu sudah dicatat" in said[-1].text
    (visit,) = await _visits(h)
    assert visit.met and visit.business_state == "tutup" and visit.note and len(visit.note) <= 4000
    said = await menu_key(mentor, "Keluarga perlu perhatian")
    assert "tidak ada keluarga yang perlu perhatian" in said[-1].text


async def test_visit_by_name_not_met_and_other_mentors_families_stay_hidden(
    harness: Harness,
) -> None:
    h = harness
    await seed(h)
    other_id = await other_mentor_household(h)
    mentor = await linked_mentor(h)
    said = await menu_key(mentor, "Catat kunjungan")
    said = await mentor.text("Wati")  # another mentor's family
    assert "Tidak ada keluarga dampingan Anda yang cocok" in said[-1].text
    said = await mentor.press(f"hh:{other_id}")
    assert "Apakah Anda bertemu" not in said[-1].text
    said = await mentor.text("aminah")
    said = await mentor.press(said[-1].key_of("Tidak bertemu"))
    said = await mentor.press(said[-1].key_of("Lewati"))
    assert "sudah dicatat" in said[-1].text
    (visit,) = await _visits(h)
    assert (visit.met, visit.business_state, visit.note) == (False, None, None)


async def test_record_visit_refuses_another_mentors_household(harness: Harness) -> None:
    h = harness
    await seed(h)
    other_id = await other_mentor_household(h)
    mentor, household = await ids(h)
    async with await h.session() as s:
        with pytest.raises(PermissionError):
            await visits.record_visit(
                s,
                mentor_id=mentor.id,
                household_id=other_id,
                met=True,
                business_state=None,
                note=None,
                now=h.now,
            )
        visit = await visits.record_visit(
            s,
            mentor_id=mentor.id,
            household_id=household.id,
            met=True,
            business_state="berjalan",
            note="ok",
            now=h.now,
        )
        assert visit.id is not None
