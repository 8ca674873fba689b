"""Webhook store-and-ack: signed POSTs stored and answered, beside a bare FastAPI endpoint.

    python -m bench webhooks                    # SQLite
    python -m bench webhooks --postgres URL     # and PostgreSQL
    SINERGI_BENCH_WEBHOOK_POSTS=2000 SINERGI_BENCH_WEBHOOK_CONCURRENCY=8,32 python -m bench webhooks
    SINERGI_BENCH_WEBHOOK_PROFILE=1 python -m bench webhooks   # pyinstrument, to bench/out/
    SINERGI_BENCH_WEBHOOK_LOOP=uvloop python -m bench webhooks  # uvicorn[standard]'s loop

Each POST is handed to the real app as an ASGI server hands it over (no client library, no
network: an in-process client's cost would sit in both times and pull the ratio to 1): WhatsApp
with its HMAC signature checked over the raw bytes, Telegram with its secret header; each
update is committed to the inbox before the 200. The baseline is a bare FastAPI app in the
same process that reads the body and answers 200. Every case (channel × concurrency) runs
in rounds that alternate bare, first delivery and duplicate delivery on the same slice of
bodies, so a load spike from the machine's other work hits all three alike; `ratio` is
our posts/s ÷ the bare endpoint's, `cpu_ratio` the same in CPU seconds
(steadier when the machine is busy), and `load` the 1-minute load average after the case.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

from bench import dbs
from bot.app import create_app
from bot.config import Settings
from bot.runtime import build_runtime
from tests.fakes.whatsapp import sign

POSTS = int(os.environ.get("SINERGI_BENCH_WEBHOOK_POSTS", "2000"))
CONCURRENCIES = [
    int(c) for c in os.environ.get("SINERGI_BENCH_WEBHOOK_CONCURRENCY", "8,32").split(",")
]
ROUNDS = int(os.environ.get("SINERGI_BENCH_WEBHOOK_ROUNDS", "5"))
WARMUP = 50
PROFILE = os.environ.get("SINERGI_BENCH_WEBHOOK_PROFILE", "") not in ("", "0")
LOOP = os.environ.get("SINERGI_BENCH_WEBHOOK_LOOP", "asyncio")
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
    """Both webhooks on each backend at each concurrency, first and duplicate deliveries."""
    results = []
    for backend in dbs.backends():
        for channel in ("telegram", "whatsapp"):
            for concurrency in CONCURRENCIES:
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    results += runner.run(_measure(backend, channel, concurrency))
    return results


async def _measure(backend: str, channel: str, concurrency: int) -> list[dict[str, Any]]:
    """Bare, first and duplicate deliveries over the same bodies, round by round."""
    bodies = [_body(channel, i) for i in range(POSTS)]
    warm = [_body(channel, POSTS + i) for i in range(WARMUP)]
    bare_app = _bare_app()
    wall = {"bare": 0.0, "first": 0.0, "duplicate": 0.0}
    cpu = dict(wall)
    with dbs.fresh(backend) as url, tempfile.TemporaryDirectory(prefix="sinergi-bench-") as folder:
        rt = build_runtime(_settings(url, Path(folder)), clients={})
        app = create_app(rt, background=False)
        path = f"/webhook/{channel}"

        def signed(body: bytes) -> dict[str, str]:
            return _headers(channel, body)

        async def timed(kind: str, part: list[bytes]) -> None:
            target, where, headers = (
                (bare_app, "/hook", _no_headers) if kind == "bare" else (app, path, signed)
            )
            started, used = time.perf_counter(), time.process_time()
            await _rate(target, where, part, headers, concurrency)
            wall[kind] += time.perf_counter() - started
            cpu[kind] += time.process_time() - used

        await _rate(bare_app, "/hook", warm, _no_headers, concurrency)
        await _rate(app, path, warm, signed, concurrency)
        size = -(-POSTS // ROUNDS)
        with _profiler(f"{channel}-{backend}-c{concurrency}") as profile:
            for r in range(ROUNDS):
                part = bodies[r * size : (r + 1) * size]
                if r % 2 == 0:
                    await timed("bare", part)
                with profile("first"):
                    await timed("first", part)
                with profile("duplicate"):
                    await timed("duplicate", part)
                if r % 2 == 1:
                    await timed("bare", part)
        stored = await _stored(rt)
        await rt.close()
    assert stored == POSTS + WARMUP, f"{stored} of {POSTS + WARMUP} stored"
    load = round(os.getloadavg()[0], 1)
    return [
        {
            "bench": "webhooks",
            "case": f"{channel} {backend} c{concurrency} {delivery}",
            "posts": POSTS,
            "posts_per_s": round(POSTS / wall[delivery], 1),
            "bare_posts_per_s": round(POSTS / wall["bare"], 1),
            "ratio": round(wall["bare"] / wall[delivery], 2),
            # CPU seconds of this process (its threads too): steadier than wall time under load.
            "cpu_ratio": round(cpu["bare"] / cpu[delivery], 2),
            "load": load,
            "loop": LOOP,
        }
        for delivery in ("first", "duplicate")
    ]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when asked for (it must be installed), else asyncio's own."""
    if LOOP != "uvloop":
        return None
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _no_headers(_body: bytes) -> dict[str, str]:
    """The bare endpoint checks nothing."""
    return {}


async def _rate(
    app: Any,
    path: str,
    bodies: list[bytes],
    headers: Callable[[bytes], dict[str, str]],
    concurrency: int,
) -> None:
    """POST every body straight into the ASGI app, `concurrency` at a time; every answer 200.

    No HTTP client library stands in between: an in-process client (httpx's ASGI transport)
    cost about 85% of a bare POST's CPU, in both the baseline and ours, pulling every ratio
    towards 1. What is timed here is the app alone: what a server's workers spend on a POST.
    """
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            body = queue.pop()
            status, answer = await _post(app, path, body, headers(body))
            assert status == 200, answer

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One POST as an ASGI server hands it over (the body in one message); its status and body."""
    raw = [(b"host", b"bench.test"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("bench.test", 80),
    }
    answered = asyncio.Event()
    given = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # as a server does: the client "leaves" once it has its answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)


class _profiler:
    """With SINERGI_BENCH_WEBHOOK_PROFILE set, pyinstrument over our deliveries (one per kind)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.profilers: dict[str, Any] = {}

    def __enter__(self) -> Callable[[str], AbstractContextManager[Any]]:
        return self.section

    def section(self, delivery: str) -> AbstractContextManager[Any]:
        """Profile this stretch into the delivery's profile (a no-op when not profiling)."""
        if not PROFILE:
            return nullcontext()
        from pyinstrument import Profiler

        profiler = self.profilers.setdefault(delivery, Profiler(async_mode="disabled"))
        return _Running(profiler)

    def __exit__(self, *_exc: object) -> None:
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(parents=True, exist_ok=True)
        for delivery, profiler in self.profilers.items():
            text = profiler.output_text(unicode=True, show_all=False)
            (out / f"profile-{self.name}-{delivery}.txt").write_text(text)


class _Running:
    """A pyinstrument profiler resumed for one stretch of the run."""

    def __init__(self, profiler: Any) -> None:
        self.profiler = profiler

    def __enter__(self) -> None:
        self.profiler.start()

    def __exit__(self, *_exc: object) -> None:
        self.profiler.stop()


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
