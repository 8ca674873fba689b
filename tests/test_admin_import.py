"""Import that tells the truth, over HTTP: out-of-region rows refused with their values, the
correct rows saved and counted, and a big file checked and saved in the background, its job
in the database: seen by every web process, kept across a restart, failed when its runner died."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import storage.roster
from bot.web.admin import imports
from storage.models import Base, Household, ImportJob
from tests.admin_world import PASSWORD, World, csrf_of, login, world_fixture  # noqa: F401
from tests.harness import Harness

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


@asynccontextmanager
async def _another_process(
    world: World, username: str = "samarinda", spawned: Spawned | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A second web process on the same database (its own runtime and app), and a browser on it."""
    other = await Harness.start(world.h.rt.settings)
    app = other.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: world.h.now
    app.state.import_spawn = spawned
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sinergi.test"
    )
    try:
        assert (await login(client, username, PASSWORD)).status_code == 303
        yield client
    finally:
        await client.aclose()
        await other.stop()


class Paused:
    """Holds the runner after its first batch is told, until the test lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached, self.go = asyncio.Event(), asyncio.Event()
        told = imports.Runner.told

        async def hold(runner: imports.Runner, rows: int) -> None:
            await told(runner, rows)
            if not self.reached.is_set():
                self.reached.set()
                await self.go.wait()

        monkeypatch.setattr(imports.Runner, "told", hold)


BIG = HEADER + "".join(_row(n, f"Warga Besar {n}") for n in range(1, 8))


async def test_a_second_web_process_sees_the_progress_and_the_result(
    world: World, spawned: Spawned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar moves in the database: another process's page shows 2 of 7 rows, then the preview."""
    monkeypatch.setattr(storage.roster, "BATCH", 2)
    paused = Paused(monkeypatch)
    officer = await world.client("samarinda")
    job = (await _upload(officer, BIG)).headers["location"]
    async with _another_process(world, spawned=spawned) as elsewhere:
        assert '<progress value="0" max="7">' in (await elsewhere.get(job)).text
        running = asyncio.create_task(spawned.run_next())
        await asyncio.wait_for(paused.reached.wait(), 30)
        halfway = await elsewhere.get(job)
        assert '<progress value="2" max="7">' in halfway.text, halfway.text[-1500:]
        paused.go.set()
        await running
        preview = await elsewhere.get(job)
        assert "7 baris benar dan bisa diimpor; 0 baris ditolak." in preview.text
        # The other process confirms it too: the file waits in the database, not in a process.
        saving = await _confirm(elsewhere, preview)
        assert saving.status_code == 303
        await spawned.run_next()
    result = await officer.get(saving.headers["location"])
    assert "7 baris disimpan." in result.text
    assert len({n for n in await _names(world) if n.startswith("Warga Besar")}) == 7


async def test_the_result_outlasts_a_restart_and_is_the_uploaders_alone(
    world: World, spawned: Spawned
) -> None:
    """After a restart (a new app) the officer finds the job in the recent list with its result;
    another officer sees no such job, neither in the list nor by its address."""
    officer = await world.client("samarinda")
    job = (await _upload(officer, BIG)).headers["location"]
    await spawned.run_next()
    async with _another_process(world) as restarted:
        page = await restarted.get("/admin/import")
        assert f'<a href="{job}">kpm.csv</a>' in page.text, page.text[-2000:]
        assert "Sudah diperiksa, belum disimpan" in page.text
        assert "7 baris benar dan bisa diimpor" in (await restarted.get(job)).text
    async with _another_process(world, "balikpapan") as other:
        assert job not in (await other.get("/admin/import")).text
        assert (await other.get(job)).status_code == 404


async def test_a_job_whose_runner_died_is_marked_failed(world: World, spawned: Spawned) -> None:
    """No beat for two minutes (the process was restarted): the page says so, the file is gone."""
    officer = await world.client("samarinda")
    job = (await _upload(officer, BIG)).headers["location"]
    spawned.waiting.pop().close()  # the process ends before its runner starts
    world.h.advance(minutes=1)
    assert '<progress value="0" max="7">' in (await officer.get(job)).text
    world.h.advance(minutes=2)
    page = await officer.get(job)
    assert "Impor terhenti karena server dimulai ulang. Unggah lagi berkas Anda." in page.text
    assert '<meta http-equiv="refresh"' not in page.text
    async with await world.h.session() as session:
        row = await session.get(ImportJob, job.rsplit("/", 1)[1])
    assert row is not None and row.state == "failed" and row.upload is None
    assert "Terhenti" in (await officer.get("/admin/import")).text


async def test_the_uploaded_file_is_never_kept_in_clear(world: World) -> None:
    """Neither the database's rows nor its bytes, nor the data folder, hold a name of a file
    waiting for confirmation."""
    officer = await world.client("samarinda")
    preview = await _upload(officer, HEADER + _row(1, "Nyonya Rahasia Sekali"))
    assert "1 baris benar dan bisa diimpor" in preview.text
    secret = "Nyonya Rahasia Sekali"
    async with await world.h.session() as session:
        assert await session.scalar(select(ImportJob.upload)) is not None
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            assert secret not in repr(rows), table.name
    # The data folder holds the uploads folder, and on SQLite the database and its WAL.
    assert _files_holding(Path(world.h.rt.settings.data_dir), secret.encode()) == []
    done = await _confirm(officer, preview)
    assert "1 baris disimpan." in done.text
    async with await world.h.session() as session:
        assert await session.scalar(select(ImportJob.upload)) is None  # emptied once ended


def _files_holding(folder: Path, secret: bytes) -> list[Path]:
    """The files under `folder` whose bytes contain `secret`."""
    return [p for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]
