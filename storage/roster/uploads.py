"""Uploaded rosters waiting for their confirmation: on disk for an hour at most (they hold NIKs in clear).

A preview's file is named after its uploader, a random token and the moment it was kept, so it
is found only by the one who uploaded it and its age needs no clock but the caller's `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

MAX_AGE = timedelta(hours=1)
SUFFIX = ".bin"


def _path(folder: Path, staff_id: int, token: str, kept: int) -> Path:
    """Where one preview waits."""
    return folder / f"{staff_id}-{token}-{kept}{SUFFIX}"


def keep(folder: Path, staff_id: int, token: str, data: bytes, *, now: datetime) -> None:
    """Keep the uploaded file until its confirmation (or an hour); older previews go first."""
    expire(folder, now=now)
    folder.mkdir(parents=True, exist_ok=True)
    path = _path(folder, staff_id, token, int(now.timestamp()))
    path.touch(mode=0o600)  # readable by the service alone, before a byte is written
    path.write_bytes(data)


def take(folder: Path, staff_id: int, token: str, *, now: datetime) -> bytes | None:
    """The previewed file of this uploader, if it is still there and younger than an hour."""
    expire(folder, now=now)
    if not token.isascii() or not token.isalnum():
        return None
    for path in folder.glob(f"{staff_id}-{token}-*{SUFFIX}"):
        return path.read_bytes()
    return None


def forget(folder: Path, staff_id: int, token: str) -> None:
    """The preview is done with (confirmed): its file goes."""
    if token.isascii() and token.isalnum():
        for path in folder.glob(f"{staff_id}-{token}-*{SUFFIX}"):
            path.unlink(missing_ok=True)


def expire(folder: Path, *, now: datetime) -> int:
    """Delete the previews older than an hour, and any file here not named like one; how many went."""
    if not folder.is_dir():
        return 0
    gone = 0
    oldest = now - MAX_AGE
    for path in folder.iterdir():
        kept = _kept_at(path)
        if kept is None or kept < oldest:
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def clear(folder: Path) -> int:
    """At start-up: every waiting preview goes (nobody is looking at one across a restart)."""
    if not folder.is_dir():
        return 0
    paths = [p for p in folder.iterdir() if p.is_file()]
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)


def _kept_at(path: Path) -> datetime | None:
    """When the preview was kept, read from its name (None for anything else)."""
    stem = path.name.removesuffix(SUFFIX)
    parts = stem.split("-")
    if len(parts) != 3 or not path.name.endswith(SUFFIX) or not parts[2].isdigit():
        return None
    return datetime.fromtimestamp(int(parts[2]), UTC)
