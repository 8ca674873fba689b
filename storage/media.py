"""The media store: photos and voice notes kept as files under `settings.media_path`, named by
their content.

Platform links expire (WhatsApp's within minutes), so the inbox worker has a channel download a
photo as soon as it arrives and saves the bytes here; a report keeps only the returned reference. Until a channel
can download, the report keeps a remote reference (`telegram:<file_id>`) instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

LOCAL_PREFIX = "file:"
SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
}


class MediaStore:
    """Saves and finds media files under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes, *, mime_type: str | None = None) -> str:
        """Keep the bytes once (same content, same file) and return their reference."""
        digest = hashlib.sha256(data).hexdigest()
        relative = Path(digest[:2]) / (digest + SUFFIXES.get(mime_type or "", ".bin"))
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)  # readers never see half a file
        return LOCAL_PREFIX + relative.as_posix()

    def path_of(self, reference: str) -> Path | None:
        """The file of a local reference, or None for a remote one or one outside the root."""
        if not reference.startswith(LOCAL_PREFIX):
            return None
        path = (self.root / reference[len(LOCAL_PREFIX) :]).resolve()
        return path if path.is_relative_to(self.root.resolve()) and path.exists() else None


def remote_reference(channel: str, file_id: str) -> str:
    """A photo the channel has not downloaded yet: `telegram:<file_id>`."""
    return f"{channel}:{file_id}"[:300]
