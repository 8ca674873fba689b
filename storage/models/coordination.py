"""The coordinators' summaries: counts per area, written hourly by the `coordination` job.

The coordinator pages read only these tables, so a page costs the same at 100k households as
at a million. Each row is an area at one level (4: kabupaten, 6: kecamatan, 10: desa) and
its code; the job replaces all rows in one transaction, so a page never sees half a run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime


class CoordinationRun(Base):
    """When the summaries were computed (one row: the latest run)."""

    __tablename__ = "coordination_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CoordinationArea(Base):
    """One area: households, silent ones, graduates (ever), those relapsed within 12 months, median days."""

    __tablename__ = "coordination_areas"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    silent: Mapped[int] = mapped_column(Integer, default=0)
    graduates: Mapped[int] = mapped_column(Integer, default=0)
    relapsed: Mapped[int] = mapped_column(Integer, default=0)
    # Median days from the first PKH/BPNT/BLT enrollment to independence.
    median_days: Mapped[int | None] = mapped_column(Integer)


class CoordinationStage(Base):
    """Households of one area at one stage of the path."""

    __tablename__ = "coordination_stages"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    stage: Mapped[str] = mapped_column(String(24), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)


class CoordinationGraduation(Base):
    """Graduations of one area in one year (set against the year's target)."""

    __tablename__ = "coordination_graduations"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    graduated: Mapped[int] = mapped_column(Integer)


class CoordinationOffice(Base):
    """Referrals from one area to one office: sent, accepted, completed, declined, overdue."""

    __tablename__ = "coordination_offices"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    office: Mapped[str] = mapped_column(String(120), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    declined: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
