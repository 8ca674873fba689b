"""The record of processing: a staff page, from the settings, with its region's counts."""

from __future__ import annotations

from tests.admin_world import World, world_fixture  # noqa: F401


async def test_the_record_of_processing_shows_purposes_periods_and_counts(world: World) -> None:
    officer = await world.client("samarinda")
    page = await officer.get("/admin/processing")
    assert page.status_code == 200
    text = page.text
    assert "Catatan pemrosesan data (UU PDP No. 27/2022)" in text
    assert "Dasar hukum" in text and "Persetujuan orang tersebut" in text
    months = world.h.rt.settings.retention_months
    assert f"{months} bulan setelah orang tersebut terakhir menulis" in text
    assert "SINERGI_RETENTION_MONTHS" in text
    idle = world.h.rt.settings.session_idle_minutes
    assert f"setelah {idle} menit tanpa aktivitas" in text
    assert "<td>Keluarga (KPM)</td><td>1</td>" in text  # Samarinda's one household, not two
    assert 'href="/admin/processing"' in (await officer.get("/admin")).text


async def test_the_record_of_processing_needs_a_login(world: World) -> None:
    anonymous = await world.client()
    answer = await anonymous.get("/admin/processing")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")
