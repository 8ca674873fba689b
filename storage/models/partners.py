"""Organisations that receive referrals: offices of the chain and village cooperatives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
