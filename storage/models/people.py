"""Regions, households, mentors and staff: the people Sinergi serves and who serve them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime


class Region(Base):
    """A provinsi (2 digits), kabupaten/kota (4), kecamatan (6) or desa/kelurahan (10)."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(SmallInteger)


class Mentor(Base):
    """A pendamping: covers the households under `region_code` without a mentor of their own."""

    __tablename__ = "mentors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(1))  # L | P: "Ibu Rina" in the chat
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Household(Base):
    """A KPM, keyed by its No. KK; the NIK is kept only encrypted and as a keyed hash."""

    __tablename__ = "households"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    no_kk: Mapped[str] = mapped_column(String(16), unique=True)
    nik_hash: Mapped[str] = mapped_column(String(64), index=True)
    nik_encrypted: Mapped[str] = mapped_column(Text)
    nik_masked: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    desa: Mapped[str | None] = mapped_column(String(120))
    kecamatan: Mapped[str | None] = mapped_column(String(120))
    kabupaten: Mapped[str | None] = mapped_column(String(120))
    provinsi: Mapped[str | None] = mapped_column(String(120))
    desil: Mapped[int | None] = mapped_column(SmallInteger)
    categories: Mapped[str] = mapped_column(String(200), default="")
    mentor_phone: Mapped[str | None] = mapped_column(String(20))
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffUser(Base):
    """A Dinsos account: role and region code prefix scope everything it may see."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A partner (role `partner`) works for one organisation and sees only its referrals.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # A partner's own number: the chat that shares it is recognised as theirs (handlers/partner.py).
    phone: Mapped[str | None] = mapped_column(String(20), index=True)


Index("ix_households_region_mentor", Household.region_code, Household.mentor_id)
