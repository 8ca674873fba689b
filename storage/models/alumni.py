"""The graduates' community: a graduate's business listed with consent, peer mentors and their pairings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class AlumniListing(Base):
    """One graduate household's consents: its business listed (since when) and its offer to mentor.

    The row is the record of consent: `listed_at` is the day the household said yes to being
    listed (None once withdrawn, with `withdrawn_at`); only rows with `listed_at` are ever shown.
    Erasure and BERHENTI delete the row.
    """

    __tablename__ = "alumni_listings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), unique=True)
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    business_name: Mapped[str | None] = mapped_column(FreeText)
    kind: Mapped[str | None] = mapped_column(String(24))  # a code of handlers.labels.BUSINESS_KINDS
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Offered to be a peer mentor (pendamping sebaya) since when; None when not or withdrawn.
    peer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PeerPairing(Base):
    """A mentor paired a peer mentor (a graduate who offered) with one of their households."""

    __tablename__ = "peer_pairings"
    __table_args__ = (UniqueConstraint("peer_household_id", "household_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    peer_household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
