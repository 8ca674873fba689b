"""Roster imports that run in the background, kept in the database so every web process sees them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ImportJob(Base):
    """One uploaded roster: its check (preview), then its saving, with progress and a heartbeat.

    The file, the preview and the result hold names and NIKs: each is sealed by the vault, and
    the file is emptied once the job ends.
    """

    __tablename__ = "import_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: not guessable
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(10))  # queued running preview saving done failed
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows checked (or saved) so far
    total: Mapped[int] = mapped_column(Integer, default=0)
    upload: Mapped[str | None] = mapped_column(Text)  # the file, sealed; None once ended
    preview: Mapped[str | None] = mapped_column(Text)  # the check's report, sealed
    result: Mapped[str | None] = mapped_column(Text)  # the saving's report, sealed
    error: Mapped[str | None] = mapped_column(String(200))  # why it failed (a msgid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last change of state
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the runner's last sign of life


# The import page lists an officer's recent jobs; the sweep finds the active ones.
Index("ix_import_jobs_staff", ImportJob.staff_id, ImportJob.created_at)
Index("ix_import_jobs_state", ImportJob.state, ImportJob.heartbeat_at)
