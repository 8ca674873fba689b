"""Sinergi as real `sinergi` subprocesses: started, killed with SIGKILL, restarted, stopped.

Shared by the deployment test (two `serve` and a clock on PostgreSQL) and the restart fault
test (one `serve` killed at random points). Their platform is a fake served over real HTTP
(tests/fakes/server.py); their updates are shaped like the real captures in tests/fixtures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import PAYLOADS

ROOT = Path(__file__).resolve().parent.parent
SECRET = "deploy-test-secret-key-0123456789abcdef"
TG_SECRET = "deploy-test-telegram-secret-0123456789"
TG_HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sinergi_env(database: str, data_dir: Path, telegram_url: str, data_key: str) -> dict[str, str]:
    """The environment of every process: one database, one data key, Telegram at the fake."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SINERGI_DATABASE_URL": database,
        "SINERGI_DATA_DIR": str(data_dir),
        "SINERGI_SECRET_KEY": SECRET,
        "SINERGI_DATA_KEY": data_key,
        "SINERGI_TELEGRAM_TOKEN": "123456:DEPLOY",
        "SINERGI_TELEGRAM_SECRET": TG_SECRET,
        "SINERGI_TELEGRAM_API_URL": telegram_url,
    }
    env.pop("SINERGI_PUBLIC_URL", None)  # no setWebhook call at start
    return env


class Processes:
    """`sinergi` subprocesses with one environment, their output kept for a failing test."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, *args: str) -> None:
        """Run a command to its end (`sinergi migrate`)."""
        subprocess.run([sys.executable, "-m", "bot", *args], env=self.env, check=True, timeout=60)

    def start(self, name: str, *args: str) -> None:
        """Start a long-running command (`serve`, `scheduler`); a restart appends to its log."""
        out = (self.logs / f"{name}.log").open("ab")
        out.write(f"--- start {' '.join(args)}\n".encode())
        out.flush()
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=self.env, stdout=out, stderr=out
        )

    def kill(self, name: str) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no cleanup, the OS frees the locks."""
        proc = self.running[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        """Interrupt each one as systemd does (SIGTERM), then make sure it is gone."""
        for proc in self.running.values():
            proc.terminate()
        for proc in self.running.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def output(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.logs / f'{name}.log').read_text(errors='replace')[-3000:]}"
            for name in self.running
        )


async def wait_for(
    predicate: Callable[[], bool], deadline: float, what: str, procs: Processes
) -> None:
    """Poll until `predicate()` holds, or fail with the processes' output."""
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{procs.output()}")
        await asyncio.sleep(0.01)


async def wait_healthy(ports: list[int], deadline: float, procs: Processes) -> None:
    """Every web process answers /healthz."""
    async with httpx.AsyncClient(timeout=2) as client:
        for port in ports:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"serve on {port} did not start\n{procs.output()}")
                await asyncio.sleep(0.1)


def telegram_text(user_id: int, update_id: int, now: datetime, text: str = "/start") -> bytes:
    """A text from a Telegram user, shaped like the real capture (a command keeps its entity)."""
    update = json.loads((PAYLOADS / "telegram_message_text_start_command.json").read_text())
    update["update_id"] = update_id
    message = update["message"]
    message["from"]["id"] = message["chat"]["id"] = user_id
    message["message_id"] = update_id
    message["date"] = int(now.timestamp())
    message["text"] = text
    if text.startswith("/"):
        message["entities"][0]["length"] = len(text.split()[0])
    else:
        del message["entities"]
    return json.dumps(update).encode()
