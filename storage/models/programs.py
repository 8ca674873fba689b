"""Program enrollments as imported: status, period and amount as of a date, with a source."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class ProgramEnrollment(Base):
    """One household's status in one program and period (e.g. PKH, Tahap 4 2026)."""

    __tablename__ = "program_enrollments"
    __table_args__ = (UniqueConstraint("household_id", "program", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    program: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    as_of: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(FreeText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
