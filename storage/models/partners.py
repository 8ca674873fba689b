"""Organisations that receive referrals: offices of the chain and village cooperatives."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class Organisation(Base):
    """An office or cooperative (kind, name, region) that referrals go to; keyed by its `kode`."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # dinsos | disperindagkop | diskop_ukm | disnakertrans | pupr | koperasi | lainnya
    kind: Mapped[str] = mapped_column(String(24))
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    # The office's chat number: a chat that shares this number hears of new referrals.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    # A cooperative's savings a member pays (rupiah): pokok once, wajib every month.
    simpanan_pokok: Mapped[int | None] = mapped_column(BigInteger)
    simpanan_wajib: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Membership(Base):
    """A household's membership of a cooperative: applied → member (or refused), and its savings paid."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("household_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    state: Mapped[str] = mapped_column(
        String(12), default="diajukan"
    )  # diajukan | anggota | ditolak
    reason: Mapped[str | None] = mapped_column(FreeText)  # why the pengurus refused
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    member_since: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(80))
    pokok_paid_on: Mapped[date | None] = mapped_column(Date)
    wajib_paid_through: Mapped[str | None] = mapped_column(
        String(7)
    )  # the last month paid, YYYY-MM
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
