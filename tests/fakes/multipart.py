"""Reading a multipart/form-data upload as the platforms do: the fields, a file part as bytes."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx


def fields(request: httpx.Request) -> dict[str, Any]:
    """A multipart request's fields: text as str, a file part as its bytes."""
    content_type = request.headers["content-type"].encode()
    raw = b"Content-Type: " + content_type + b"\r\n\r\n" + request.read()
    found: dict[str, Any] = {}
    for part in BytesParser(policy=HTTP).parsebytes(raw).iter_parts():
        data = part.get_payload(decode=True) or b""
        name = str(part.get_param("name", header="content-disposition"))
        found[name] = data if part.get_filename() else data.decode()
    return found
