"""Webhook throughput: signed POSTs stored and acknowledged per second, beside a bare FastAPI endpoint.

    python -m bench webhooks                    # SQLite
    python -m bench webhooks --postgres URL     # and PostgreSQL
    SINERGI_BENCH_WEBHOOK_POSTS=2000 python -m bench webhooks

Each POST goes through the real app over ASGI (httpx.ASGITransport, no network): WhatsApp
with its HMAC signature checked over the raw bytes, Telegram with its secret header; each
update is committed to the inbox before the 200. The baseline is a bare FastAPI app in the
same process that reads the body and answers 200, so `ratio` is bare posts/s ÷ ours.
POSTs are sent `CONCURRENCY` at a time, as Meta and Telegram do when a chat is busy.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from bench import dbs
from bot.app import create_app
from bot.config import Settings
from bot.runtime import build_runtime
from tests.fakes.whatsapp import sign

POSTS = int(os.environ.get("SINERGI_BENCH_WEBHOOK_POSTS", "3000"))
CONCURRENCY = int(os.environ.get("SINERGI_BENCH_WEBHOOK_CONCURRENCY", "8"))
APP_SECRET = "bench-app-secret"
TG_SECRET = "bench-telegram-secret"
WA_BODY = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "264937493375603",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550953877",
                            "phone_number_id": "277321005464405",
                        },
                        "contacts": [
                            {
                                "profile": {"name": "Ibu Siti"},
                                "wa_id": "6281300000001",
                                "user_id": "ID.13491208655302741918",
                            }
                        ],
                        "messages": [
                            {
                                "from": "6281300000001",
                                "id": "wamid.X",
                                "timestamp": "1763900000",
                                "type": "text",
                                "text": {"body": "Halo, bagaimana status bantuan saya?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}
TG_BODY = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1763900000,
        "text": "Halo, bagaimana status bantuan saya?",
        "from": {"id": 568577002, "is_bot": False, "first_name": "Siti", "language_code": "id"},
        "chat": {"id": 568577002, "first_name": "Siti", "type": "private"},
    },
}


def run() -> list[dict[str, Any]]:
    """Both webhooks on each backend, each beside the bare endpoint measured in the same run."""
    results = []
    for backend in dbs.backends():
        for channel in ("whatsapp", "telegram"):
            results.append(asyncio.run(_measure(backend, channel)))
    return results


async def _measure(backend: str, channel: str) -> dict[str, Any]:
    """Posts/s of one webhook and of the bare endpoint; every post must be stored once."""
    bodies = [_body(channel, i) for i in range(POSTS)]
    bare = await _rate(_bare_app(), "/hook", bodies, lambda _b: {})
    with dbs.fresh(backend) as url, tempfile.TemporaryDirectory(prefix="sinergi-bench-") as folder:
        rt = build_runtime(_settings(url, Path(folder)), clients={})
        app = create_app(rt, background=False)
        path = f"/webhook/{channel}"
        ours = await _rate(app, path, bodies, lambda b: _headers(channel, b))
        stored = await _stored(rt)
        await rt.close()
    assert stored == POSTS, f"{stored} of {POSTS} stored"
    return {
        "bench": "webhooks",
        "case": f"{channel} {backend}",
        "posts": POSTS,
        "concurrency": CONCURRENCY,
        "posts_per_s": round(POSTS / ours, 1),
        "bare_posts_per_s": round(POSTS / bare, 1),
        "ratio": round(ours / bare, 2),
    }


async def _rate(app: Any, path: str, bodies: list[bytes], headers: Any) -> float:
    """Seconds to POST every body, CONCURRENCY at a time; every answer must be 200."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        queue = list(reversed(bodies))

        async def worker() -> None:
            while queue:
                body = queue.pop()
                response = await client.post(path, content=body, headers=headers(body))
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def _bare_app() -> FastAPI:
    """The floor: FastAPI reading the body and answering 200, nothing else."""
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        await request.body()
        return Response(b'{"ok":true}', media_type="application/json")

    return app


def _body(channel: str, i: int) -> bytes:
    """The i-th update: a distinct message id and sender, so every one is new."""
    if channel == "whatsapp":
        data = copy.deepcopy(WA_BODY)
        value = data["entry"][0]["changes"][0]["value"]
        wa_id = f"62813{i % 1000:08d}"
        value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = wa_id
        value["messages"][0]["id"] = f"wamid.BENCH{i:08d}"
    else:
        data = copy.deepcopy(TG_BODY)
        data["update_id"] = 900_000_000 + i
        data["message"]["from"]["id"] = data["message"]["chat"]["id"] = 500_000_000 + i % 1000
    return json.dumps(data, separators=(",", ":")).encode()


def _headers(channel: str, body: bytes) -> dict[str, str]:
    """What Meta or Telegram sends along."""
    if channel == "whatsapp":
        return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    return {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}


def _settings(url: str, folder: Path) -> Settings:
    """Both channels on, pointed nowhere (nothing is sent in this benchmark)."""
    return Settings(
        database_url=url,
        data_dir=folder,
        secret_key="bench-secret-key",
        telegram_token="1:BENCH",
        telegram_secret=TG_SECRET,
        telegram_api_url="http://telegram.invalid",
        whatsapp_token="BENCH",
        whatsapp_phone_id="1",
        whatsapp_app_secret=APP_SECRET,
        whatsapp_api_url="http://graph.invalid",
    )


async def _stored(rt: Any) -> int:
    """Rows in the inbox."""
    from storage import inbox

    async with rt.sessions() as session:
        return sum((await inbox.count_by_state(session)).values())
