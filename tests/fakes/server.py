"""A fake platform served over real HTTP on 127.0.0.1, for Sinergi running as a subprocess."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


@contextmanager
def serving(handler: Handler, *, latency: Callable[[], float] | None = None) -> Iterator[str]:
    """Serve `handler` (a fake's httpx handler) in threads; yields its base URL. With `latency`,
    each answer goes that many seconds after the handler saw the call (a platform far away);
    calls keep their connection open (HTTP/1.1), as a client's pool expects."""
    lock = threading.Lock()  # the fakes record into plain lists: one request at a time

    class Adapter(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length) if length else b""
            if len(content) < length:
                return  # the caller died mid-request (killed): a platform never sees such a call
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=dict(self.headers.items()),
                content=content,
            )
            with lock:
                response = handler(request)
                wait = latency() if latency is not None else 0.0
            body = response.read()
            if wait > 0:
                time.sleep(wait)  # outside the lock: calls in flight overlap, as on a platform
            self.send_response(response.status_code)
            self.send_header("Content-Type", response.headers.get("content-type", "text/plain"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads what the fake recorded."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Adapter)
    # A kept-open connection's thread ends with its client, not with the server.
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
