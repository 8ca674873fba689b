"""A data correction (sanggah) closed: staff record the outcome, the household hears it, on every channel."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from storage.models import AuditEvent, ServiceRequest
from tests.admin_world import csrf_of, signed_in_officer
from tests.case_helpers import HOUSEHOLD_PHONE, linked, person_on, seed
from tests.drivers import DRIVERS, Driver
from tests.harness import Harness

WRONG = "Nama saya tertulis Sitti padahal Siti, dan anak saya belum masuk KK"


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _correction(person: Driver) -> tuple[int, str]:
    """A linked household asks for a correction of its data; (request id, reference)."""
    await seed(person.h)
    await linked(person)
    await person.text("sanggah")
    await person.text("1")
    said = await person.text(WRONG)
    assert "SG-2611-0001" in "\n".join(s.text for s in said)
    async with await person.h.session() as s:
        row = await s.scalar(select(ServiceRequest).where(ServiceRequest.kind == "sanggah"))
    assert row is not None
    return row.id, row.reference


async def _record(client: httpx.AsyncClient, request_id: int, **form: str) -> httpx.Response:
    """Post the outcome form of the request page, with its CSRF token."""
    token = await csrf_of(client, f"/admin/requests/{request_id}")
    return await client.post(
        f"/admin/requests/{request_id}/outcome", data={"csrf_token": token, **form}
    )


async def test_forwarded_to_dtsen_tells_the_household_the_expected_date(person: Driver) -> None:
    request_id, reference = await _correction(person)
    office = await signed_in_officer(person.h, "samarinda", "6472")
    page = (await office.get(f"/admin/requests/{request_id}")).text
    assert "Hasil perbaikan data" in page and 'name="expected_on"' in page
    undated = await _record(office, request_id, outcome="forwarded")
    assert undated.headers["location"].endswith("?error=date")
    past = await _record(office, request_id, outcome="forwarded", expected_on="2026-01-05")
    assert past.headers["location"].endswith("?error=date")
    assert await person.news() == []  # nothing recorded, nothing told
    moved = await _record(
        office,
        request_id,
        outcome="forwarded",
        expected_on="2027-01-15",
        note="Diusulkan lewat musyawarah desa bulan ini",
    )
    assert moved.status_code == 303 and moved.headers["location"].endswith("?done=forwarded")
    told = "\n".join(m.text for m in await person.news())
    assert f"Perbaikan data {reference} diteruskan ke daftar nasional (DTSEN, Kemensos)" in told
    assert "paling lambat 15 Januari 2027" in told
    assert "Keterangan dari kantor: Diusulkan lewat musyawarah desa bulan ini" in told
    said = await person.text("status pengajuan")
    assert "Data nasional diperkirakan berubah paling lambat 15 Januari 2027" in "\n".join(
        s.text for s in said
    )
    async with await person.h.session() as s:
        row = await s.get(ServiceRequest, request_id)
        audit = await s.scalar(
            select(AuditEvent).where(AuditEvent.action == "request.correction_forwarded")
        )
    assert row is not None and (row.state, row.outcome, row.referred_to) == (
        "dirujuk",
        "forwarded",
        "DTSEN (Kemensos)",
    )
    assert audit is not None and audit.actor == "samarinda"


async def test_rejected_needs_a_reason_and_the_household_reads_it(person: Driver) -> None:
    request_id, reference = await _correction(person)
    office = await signed_in_officer(person.h, "samarinda", "6472")
    blank = await _record(office, request_id, outcome="rejected", note="  ")
    assert blank.headers["location"].endswith("?error=reason")
    reason = "Nama di KTP elektronik memang tertulis Sitti"
    assert (await _record(office, request_id, outcome="rejected", note=reason)).status_code == 303
    told = "\n".join(m.text for m in await person.news())
    assert f"perbaikan data {reference} tidak diterima" in told
    assert f"Alasan: {reason}" in told and "SANGGAH" in told and "Rina Marlina" in told
    again = await _record(office, request_id, outcome="corrected")
    assert again.headers["location"].endswith("?error=state")  # a closed request stays closed


async def test_corrected_here_is_told_and_other_regions_get_404(harness: Harness) -> None:
    person = DRIVERS["simulator"](harness)
    person.phone = HOUSEHOLD_PHONE  # type: ignore[attr-defined]
    request_id, reference = await _correction(person)
    elsewhere = await signed_in_officer(harness, "balikpapan", "6471")
    assert (await elsewhere.get(f"/admin/requests/{request_id}")).status_code == 404
    token = await csrf_of(elsewhere)
    foreign = await elsewhere.post(
        f"/admin/requests/{request_id}/outcome", data={"csrf_token": token, "outcome": "corrected"}
    )
    assert foreign.status_code == 404
    office = await signed_in_officer(harness, "samarinda", "6472")
    forged = await office.post(
        f"/admin/requests/{request_id}/outcome", data={"outcome": "corrected"}
    )
    assert forged.status_code in (400, 403)
    token = await csrf_of(office)
    bare = await office.post(
        f"/admin/requests/{request_id}/move", data={"csrf_token": token, "action": "approve"}
    )
    assert bare.headers["location"].endswith("?error=state")  # a correction ends in an outcome
    assert await person.news() == []
    assert (await _record(office, request_id, outcome="corrected")).status_code == 303
    told = "\n".join(m.text for m in await person.news())
    assert f"Perbaikan data {reference} selesai: kantor sudah memperbaiki data Anda." in told
    async with await harness.session() as s:
        row = await s.get(ServiceRequest, request_id)
    assert row is not None and (row.state, row.outcome, row.open_key) == (
        "selesai",
        "corrected",
        None,
    )
