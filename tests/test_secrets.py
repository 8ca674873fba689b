"""Secrets and the files that hold them: long keys only, files for their owner's eyes only."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.config import MIN_SECRET_LENGTH, SettingsError, load_settings
from storage.db import make_engine
from tests import factories
from tests.drivers import TelegramDriver
from tests.harness import Harness


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_short_secret_key_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings(secret_key="x", data_dir=tmp_path)
    load_settings(secret_key="k" * MIN_SECRET_LENGTH, data_dir=tmp_path)


def test_the_command_line_says_why_it_will_not_start_with_a_short_key(tmp_path: Path) -> None:
    env = {
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SINERGI_DATA_DIR": str(tmp_path),
        "SINERGI_SECRET_KEY": "x",
    }
    result = CliRunner().invoke(app, ["migrate"], env=env)
    assert result.exit_code == 2
    assert "SINERGI_SECRET_KEY is too short" in result.output
    assert not (tmp_path / "cli.db").exists()


def test_the_generated_key_file_is_private_from_its_first_byte(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask would leave a plain new file readable by all
    try:
        first = load_settings(secret_key="", data_dir=tmp_path)
    finally:
        os.umask(old)
    key_file = tmp_path / "secret_key"
    assert _mode(key_file) == 0o600
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    assert load_settings(secret_key="", data_dir=tmp_path).secret_key == first.secret_key


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sinergi.db"

    async def touch() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        await engine.dispose()

    old = os.umask(0o022)
    try:
        asyncio.run(touch())
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    for side in path.parent.glob("sinergi.db-*"):
        assert _mode(side) == 0o600, side.name


async def _consented(h: Harness, user_id: int) -> TelegramDriver:
    person = TelegramDriver(h, user_id=user_id)
    await person.text("/start")
    await person.text("SETUJU")
    return person


async def test_link_code_guesses_are_limited_per_chat(harness: Harness) -> None:
    async with await harness.session() as s:
        m = await factories.mentor(s)
        await factories.household(s, harness.rt.vault, mentor_id=m.id)
    person = await _consented(harness, 568577002)
    await person.press("code")
    for i in range(5):
        said = await person.text(f"ABCD-EF{i}{i}")
        assert "kode ini salah" in said[-1].text.lower()
    said = await person.text("ABCD-EFGH")
    assert "Terlalu banyak percobaan" in said[-1].text


async def test_nik_guesses_for_one_no_kk_are_limited_across_chats(harness: Harness) -> None:
    async with await harness.session() as s:
        m = await factories.mentor(s)
        await factories.household(s, harness.rt.vault, mentor_id=m.id)
    # Ten chats guess ten different NIKs of the one family card: each NIK is new, the KK is not.
    for chat in range(5):
        person = await _consented(harness, 800 + chat)
        await person.press("nik")
        for guess in range(2):
            await person.text(f"647201650381{chat * 2 + guess + 10:04d}")
            said = await person.text(factories.NO_KK)
            assert "tidak cocok" in said[-1].text
    owner = await _consented(harness, 899)
    await owner.press("nik")
    await owner.text(factories.NIK)
    said = await owner.text(factories.NO_KK)
    assert "Terlalu banyak percobaan" in said[-1].text
