"""Import that tells the truth, over HTTP: out-of-region rows refused with their values, the
correct rows saved and counted, and a big file checked and saved in the background."""

from __future__ import annotations

import re
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.web.admin import imports
from storage.models import Household
from tests.admin_world import World, csrf_of, world_fixture  # noqa: F401

HEADER = "no_kk,nik,nama,tanggal_lahir,jenis_kelamin,no_hp,alamat,kode_wilayah,desil\n"
TOKEN = re.compile(r'name="token" value="(\w+)"')
PROBLEM = re.compile(r'<td>(\d+)</td><td>([^<]*)</td><td class="value">([^<]*)</td>')


def _row(n: int, name: str, code: str = "64.72.01.1001", kk: str = "") -> str:
    """One household row of the roster, the n-th of the file."""
    kab = code.replace(".", "")[:6]
    kk = kk or f"{kab}0202{n:06d}"
    return (
        f"{kk},{kab}4506{90 + n % 10}{n:04d},{name},1990-06-05,P,08130{n:07d},Jl. Baru,{code},2\n"
    )


async def _upload(client: httpx.AsyncClient, body: str) -> httpx.Response:
    """The officer uploads a households roster for its check."""
    return await client.post(
        "/admin/import",
        data={"csrf_token": await csrf_of(client), "kind": "households"},
        files={"file": ("kpm.csv", body.encode(), "text/csv")},
    )


async def _confirm(client: httpx.AsyncClient, preview: httpx.Response) -> httpx.Response:
    """The officer presses "Impor baris yang benar" on the preview."""
    token = TOKEN.search(preview.text)
    assert token, preview.text[-2000:]
    return await client.post(
        "/admin/import/confirm",
        data={
            "csrf_token": await csrf_of(client),
            "token": token.group(1),
            "kind": "households",
            "filename": "kpm.csv",
        },
    )


async def _names(world: World) -> set[str]:
    """The households' names in the database."""
    async with await world.h.session() as session:
        return set(await session.scalars(select(Household.name)))


async def test_out_of_region_rows_are_refused_with_their_values(world: World) -> None:
    """Each refused row says why and shows the value in the file; the regions show their names."""
    officer = await world.client("samarinda")
    body = (
        HEADER
        + _row(1, "Ani Suryani")
        + _row(2, "Orang Balikpapan", code="64.71.01.1001")
        + _row(3, "Tanpa KK", kk="123")
        + _row(4, "Desa Khayalan", code="64.72.01.9999")
    )
    preview = await _upload(officer, body)
    problems = PROBLEM.findall(preview.text)
    assert problems == [
        (
            "3",
            "Baris ini di luar wilayah Anda: no_kk 6471010202000002, kode_wilayah 64.71.01.1001",
            "64.71.01.1001",
        ),
        ("4", "No. KK harus 16 angka", "123"),
        (
            "5",
            "kode_wilayah 64.72.01.9999 tidak ada di daftar wilayah Kemendagri",
            "64.72.01.9999",
        ),
    ], preview.text[-3000:]
    assert "1 baris benar dan bisa diimpor; 3 baris ditolak." in preview.text
    assert '<div class="card bad"><span>Ditolak</span><b>3</b>' in preview.text
    # The region codes of the file, each with its name (or that the official list has none).
    places = re.findall(r"<td><code>(\d+)</code></td><td>([^<]*)</td><td>(\d+)</td>", preview.text)
    assert ("6472011001", "Desa Siti Aminah Rahayu", "2") in places
    assert ("6471011001", "Desa Rahasia Balikpapan", "1") in places
    assert "Ani Suryani" not in await _names(world)


async def test_importing_the_correct_rows_saves_exactly_them(world: World) -> None:
    """Two correct rows among refused ones: those two are saved and the page says two."""
    officer = await world.client("samarinda")
    before = await _names(world)
    body = (
        HEADER
        + _row(1, "Ani Suryani")
        + _row(2, "Orang Balikpapan", code="64.71.01.1001")
        + _row(3, "Budi Santoso")
        + _row(4, "Tanpa KK", kk="123")
    )
    done = await _confirm(officer, await _upload(officer, body))
    assert "Impor selesai" in done.text and "2 baris disimpan." in done.text
    assert await _names(world) - before == {"Ani Suryani", "Budi Santoso"}


async def test_a_file_that_breaks_part_way_still_refuses_the_foreign_rows_before_the_break(
    world: World,
) -> None:
    """The rows before an unreadable line are imported, and one of another region among them is
    refused: it is not written unchecked."""
    officer = await world.client("samarinda")
    before = await _names(world)
    body = (
        HEADER
        + _row(1, "Ani Suryani")
        + _row(2, "Orang Balikpapan", code="64.71.01.1001")
        + _row(3, "x" * 200_000)  # past the CSV reader's field limit: the rest cannot be read
        + _row(4, "Budi Santoso")
    )
    preview = await _upload(officer, body)
    assert "1 baris benar dan bisa diimpor; 1 baris ditolak." in preview.text
    done = await _confirm(officer, preview)
    assert "Impor selesai" in done.text, done.text[-2000:]
    assert await _names(world) - before == {"Ani Suryani"}


class Spawned:
    """The background imports a test starts by hand, one at a time."""

    def __init__(self) -> None:
        self.waiting: list[Coroutine[Any, Any, None]] = []

    def __call__(self, work: Coroutine[Any, Any, None]) -> None:
        self.waiting.append(work)

    async def run_next(self) -> None:
        """Do the oldest waiting import to its end."""
        await self.waiting.pop(0)


@pytest.fixture(name="spawned")
def spawned_fixture(world: World, monkeypatch: pytest.MonkeyPatch) -> Spawned:
    """Files of more than five rows go to the background, which the test drives."""
    monkeypatch.setattr(imports, "BACKGROUND_ROWS", 5)
    spawned = Spawned()
    world.app.state.import_spawn = spawned
    return spawned


async def test_a_big_upload_runs_in_the_background_and_keeps_its_result(
    world: World, spawned: Spawned
) -> None:
    """The check and the saving each show progress, then the result, to the uploader alone."""
    officer = await world.client("samarinda")
    body = HEADER + "".join(_row(n, f"Warga Besar {n}") for n in range(1, 8))
    sent = await _upload(officer, body)
    assert sent.status_code == 303 and len(spawned.waiting) == 1
    job = sent.headers["location"]
    assert re.fullmatch(r"/admin/import/jobs/\w+", job)
    waiting = await officer.get(job)
    assert '<meta http-equiv="refresh"' in waiting.text and "Memeriksa berkas" in waiting.text
    assert '<progress value="0" max="7">' in waiting.text
    other = await world.client("balikpapan")
    assert (await other.get(job)).status_code == 404
    await spawned.run_next()
    preview = await officer.get(job)
    assert "7 baris benar dan bisa diimpor; 0 baris ditolak." in preview.text
    assert '<meta http-equiv="refresh"' not in preview.text
    assert not {n for n in await _names(world) if n.startswith("Warga Besar")}

    saving = await _confirm(officer, preview)
    assert saving.status_code == 303 and len(spawned.waiting) == 1
    progress = await officer.get(saving.headers["location"])
    assert "Menyimpan baris yang benar" in progress.text
    await spawned.run_next()
    result = await officer.get(saving.headers["location"])
    assert "Impor selesai" in result.text and "7 baris disimpan." in result.text
    assert len({n for n in await _names(world) if n.startswith("Warga Besar")}) == 7
    # Coming back later, the result is still there.
    assert "7 baris disimpan." in (await officer.get(saving.headers["location"])).text
